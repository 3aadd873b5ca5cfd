"""The "Gestion des comptes" area: find an account, act on it, print activation letters.

Open to référents numériques and the DSI (``permissions.manager_required``); an account is
reached only through ``User.objects.managed_by(actor)`` (404 outside it), and a letter batch
only by whoever requested it or a DSI.
"""

from __future__ import annotations

from functools import reduce
from operator import and_

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .. import actions, letters
from ..forms.activation import AccountSearchForm, LetterBatchForm
from ..models import Assignment, JobState, LetterBatch, Role, User
from ..permissions import (
    OutsideDelegation,
    get_managed_account_or_404,
    is_dsi,
    manager_required,
)

PAGE_SIZE = 25


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _current_assignments() -> Prefetch[str, QuerySet[Assignment], str]:
    return Prefetch(
        "assignments",
        queryset=Assignment.objects.current()
        .select_related("establishment")
        .order_by("establishment__name", "role"),
        to_attr="current_assignments",
    )


def search_accounts(actor: User, query: str) -> QuerySet[User]:
    """Accounts ``actor`` manages whose login or names contain every word of ``query``."""
    accounts = User.objects.managed_by(actor)
    words = query.split()[:5]
    if words:
        accounts = accounts.filter(
            reduce(
                and_,
                (
                    Q(login__icontains=word)
                    | Q(first_name__icontains=word)
                    | Q(last_name__icontains=word)
                    for word in words
                ),
            )
        )
    return accounts.order_by("last_name", "first_name", "login")


@manager_required
def manage_accounts(request: HttpRequest) -> HttpResponse:
    """Search the accounts the actor manages (by name or login), 25 a page."""
    form = AccountSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    accounts = search_accounts(_actor(request), query).prefetch_related(_current_assignments())
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/manage/accounts.html",
        {"form": form, "query": query, "page": page, "is_dsi": is_dsi(request.user)},
        status=200 if form.is_bound is False or form.is_valid() else 400,
    )


@manager_required
def manage_account(request: HttpRequest, pk: int) -> HttpResponse:
    """One account: identity, state, roles, guardians or children, and what may be done."""
    account = get_managed_account_or_404(_actor(request), pk)
    assignments = (
        Assignment.objects.current()
        .filter(user=account)
        .select_related("establishment")
        .order_by("establishment__name", "role")
    )
    guardians = User.objects.filter(guardianships__pupil=account).order_by("last_name")
    children = (
        User.objects.filter(guardians__parent=account)
        .prefetch_related(_current_assignments())
        .order_by("first_name")
    )
    return render(
        request,
        "accounts/manage/account.html",
        {
            "account": account,
            "assignments": assignments,
            "is_pupil": any(a.role == Role.ELEVE for a in assignments),
            "guardians": guardians,
            "children": children,
            "may_print": account.state in actions.activation.ACTIVATABLE_STATES,
        },
    )


@manager_required
@require_POST
def manage_account_letter(request: HttpRequest, pk: int) -> HttpResponse:
    """Reprint one activation letter (new code, the old one dies): a one-page PDF."""
    account = get_managed_account_or_404(_actor(request), pk)
    try:
        pdf = actions.reprint_activation_letter(
            acting_user=_actor(request), user=account, request=request
        )
    except actions.ActivationError as failure:
        messages.error(request, failure.message)
        return redirect("manage_account", pk=account.pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="lettre-activation-{account.login}.pdf"'
    )
    response["Cache-Control"] = "no-store"
    return response


def _visible_batches(actor: User) -> QuerySet[LetterBatch]:
    batches = LetterBatch.objects.select_related("establishment", "requested_by")
    return batches if is_dsi(actor) else batches.filter(requested_by=actor)


def _batch_or_404(actor: User, pk: int) -> LetterBatch:
    """The batch if ``actor`` may see it, else a 404 that the gate audits."""
    batch = _visible_batches(actor).filter(pk=pk).first()
    if batch is None:
        raise OutsideDelegation(kind="letter_batch", target=pk)
    return batch


@manager_required
def manage_letters(request: HttpRequest) -> HttpResponse:
    """Ask for a batch of letters (establishment, audience, optional class); recent batches."""
    actor = _actor(request)
    form = LetterBatchForm(request.POST or None, actor=actor)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            batch = actions.request_letter_batch(
                acting_user=actor,
                establishment=data["establishment"],
                audience=data["audience"],
                division=data["division"],
            )
            return redirect("manage_letter_batch", pk=batch.pk)
        status = 400
    batches = _visible_batches(actor).order_by("-created_at")[:20]
    return render(
        request,
        "accounts/manage/letters.html",
        {
            "form": form,
            "batches": batches,
            "divisions": form.divisions(),
            "is_dsi": is_dsi(actor),
        },
        status=status,
    )


@manager_required
@never_cache
def manage_letter_batch(request: HttpRequest, pk: int) -> HttpResponse:
    """A batch's progress (polled every 2 s by htmx while it runs), then its download link."""
    batch = _batch_or_404(_actor(request), pk)
    context = {
        "batch": batch,
        "running": batch.state in {JobState.PENDING, JobState.RUNNING},
        "file_available": batch.state == JobState.DONE and letters.batch_file(batch) is not None,
    }
    if getattr(request, "htmx", False):
        return render(request, "accounts/manage/_batch_progress.html", context)
    return render(request, "accounts/manage/letter_batch.html", context)


@manager_required
@never_cache
def manage_letter_batch_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The batch's PDF, for whoever requested it or a DSI, until it is purged."""
    batch = _batch_or_404(_actor(request), pk)
    path = letters.batch_file(batch) if batch.state == JobState.DONE else None
    if path is None:
        messages.warning(
            request,
            _(
                "Ce fichier n'est plus disponible : les lettres sont supprimées 24 heures après "
                "leur production. Lancez une nouvelle production (les codes seront renouvelés)."
            ),
        )
        return redirect("manage_letter_batch", pk=batch.pk)
    filename = f"lettres-activation-{batch.establishment.uai}-{batch.pk}.pdf"
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf"
    )
    response["Cache-Control"] = "no-store"
    return response
