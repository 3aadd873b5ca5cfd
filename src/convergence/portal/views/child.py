"""A parent's page about one of their children: school, class, the child's services, the
state of the child's account and whom to contact. Never network details (addresses,
browsers): those are shown to the person alone, in "Mes appareils"."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from convergence.accounts.http import AuthenticatedRequest
from convergence.accounts.models import AccountState, Assignment, Role, User
from convergence.audit.actions import record_refusal
from convergence.portal.models import Service


@login_required
@require_GET
def child(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    # The one rule for who is whose child (accounts: guardianships); anyone else gets the
    # same 404 as a child who does not exist, and the refusal is audited.
    children = User.objects.children_of(request.user)
    found = children.filter(pk=pk).first()
    if found is None:
        record_refusal(kind="child_page", request=request, actor=request.user, target=pk)
        raise Http404
    schooling = list(
        Assignment.objects.current()
        .filter(user=found, role=Role.ELEVE)
        .select_related("establishment__department")
        .order_by("establishment__name")
    )
    establishment_ids = [assignment.establishment_id for assignment in schooling]
    return render(
        request,
        "portal/child.html",
        {
            "child": found,
            "schooling": schooling,
            # What a parent may see of the account itself: a minor's only ("Mes données").
            "is_minor": children.minors().filter(pk=found.pk).exists(),
            "invited": found.state == AccountState.INVITED,
            "services": list(Service.objects.visible_to(found)),
            "referents": list(
                User.objects.holding_role_at(Role.REFERENT, establishment_ids).order_by(
                    "last_name", "first_name"
                )
            ),
        },
    )
