"""The "Gestion des comptes" area: find an account, act on it, print activation letters.

Open to référents numériques and the DSI (``permissions.manager_required``); an account is
reached only through ``User.objects.managed_by(actor)`` (404 outside it), and a letter batch
only by whoever requested it or a DSI.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.shortcuts import render

from convergence.accounts import actions
from convergence.accounts.http import AuthenticatedRequest
from convergence.accounts.models import Assignment, Role, User
from convergence.accounts.permissions import (
    get_managed_account_or_404,
    is_dsi,
    manager_required,
)
from convergence.portal.forms import AccountSearchForm

PAGE_SIZE = 25


def _current_assignments() -> Prefetch[str, QuerySet[Assignment], str]:
    return Prefetch(
        "assignments",
        queryset=Assignment.objects.current()
        .select_related("establishment")
        .order_by("establishment__name", "role"),
        to_attr="current_assignments",
    )


@manager_required
def manage_accounts(request: AuthenticatedRequest) -> HttpResponse:
    """Search the accounts the actor manages (by name or login), 25 a page."""
    form = AccountSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    accounts = (
        User.objects.managed_by(request.user)
        .matching(query)
        .order_by("last_name", "first_name", "login")
        .prefetch_related(_current_assignments())
    )
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "portal/manage/accounts.html",
        {"form": form, "query": query, "page": page, "is_dsi": is_dsi(request.user)},
        status=200 if form.is_bound is False or form.is_valid() else 400,
    )


@manager_required
def manage_account(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One account: identity, state, roles, guardians or children, and what may be done."""
    account = get_managed_account_or_404(request.user, pk)
    assignments = (
        Assignment.objects.current()
        .filter(user=account)
        .select_related("establishment")
        .order_by("establishment__name", "role")
    )
    guardians = User.objects.guardians_of(account).order_by("last_name")
    children = (
        User.objects.children_of(account)
        .prefetch_related(_current_assignments())
        .order_by("first_name")
    )
    return render(
        request,
        "portal/manage/account.html",
        {
            "account": account,
            "assignments": assignments,
            "is_pupil": any(a.role == Role.ELEVE for a in assignments),
            "guardians": guardians,
            "children": children,
            "may_print": account.state in actions.activation.ACTIVATABLE_STATES,
        },
    )
