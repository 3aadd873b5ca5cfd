"""Sessions and activity: "Mes appareils", "Activité récente", and an administrator ending
someone's sessions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from convergence.accounts.http import AuthenticatedRequest
from convergence.accounts.models import Assignment, Role, User
from convergence.accounts.permissions import get_managed_account_or_404, manager_required
from convergence.audit.models import AuditEvent
from convergence.core.models import Academie
from convergence.devices import actions
from convergence.devices.labels import Device, approximate_place, parse_user_agent
from convergence.devices.sessions import (
    SignedInSession,
    signed_in_session,
    signed_in_sessions,
    store,
)

ACTIVITY_PAGE_SIZE = 20


@dataclass(frozen=True)
class DeviceRow:
    session: SignedInSession
    device: Device
    place: str


@login_required
def devices(request: AuthenticatedRequest) -> HttpResponse:
    """The person's signed-in browsers, this one first, then by last activity."""
    academie = Academie.current()
    rows = [
        DeviceRow(
            session=session,
            device=parse_user_agent(session.user_agent),
            place=approximate_place(session.ip, academie),
        )
        for session in signed_in_sessions(request.user, current_key=request.session.session_key)
    ]
    return render(
        request,
        "devices/list.html",
        {"rows": rows, "others": sum(1 for row in rows if not row.session.current)},
    )


@login_required
@require_POST
def end_device(request: AuthenticatedRequest, device_id: str) -> HttpResponse:
    """End one of the person's sessions; another person's is a 404, as one that never was."""
    user = request.user
    session = signed_in_session(user, device_id, current_key=request.session.session_key)
    if session is None:
        raise Http404
    actions.end_session(acting_user=user, session=session, request=request)
    if session.current:
        return redirect("account_login")
    messages.success(request, _("La session a été terminée : cet appareil est déconnecté."))
    return redirect("devices:list")


@login_required
@require_POST
def end_other_devices(request: AuthenticatedRequest) -> HttpResponse:
    count = actions.end_other_sessions(acting_user=request.user, request=request)
    messages.success(
        request,
        ngettext(
            "%(count)d autre session a été terminée.",
            "%(count)d autres sessions ont été terminées.",
            count,
        )
        % {"count": count}
        if count
        else _("Aucune autre session n'était ouverte."),
    )
    return redirect("devices:list")


@dataclass(frozen=True)
class ActivityRow:
    event: AuditEvent
    place: str
    browser: str
    actor: str


def _actor_label(event: AuditEvent, user: User, referents: set[int]) -> str:
    """Who did it, without naming anyone but the person: "Vous", "Un référent numérique"…"""
    if event.actor_id is None:
        return ""
    if event.actor_id == user.pk:
        if event.subject_id not in (None, user.pk):
            return _("Vous, sur le compte d'une autre personne")
        return _("Vous")
    if event.actor_id in referents:
        return _("Un référent numérique")
    return _("L'administration")


@login_required
def activity(request: AuthenticatedRequest) -> HttpResponse:
    """The person's own audit trail, newest first, twenty a page."""
    user = request.user
    page = Paginator(AuditEvent.objects.for_user(user), ACTIVITY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    events = list(page.object_list)
    other_actors = {e.actor_id for e in events if e.actor_id not in (None, user.pk)}
    referents = (
        set(
            Assignment.objects.current()
            .filter(user_id__in=other_actors, role=Role.REFERENT)
            .values_list("user_id", flat=True)
        )
        if other_actors
        else set()
    )
    academie = Academie.current()
    rows = [
        ActivityRow(
            event=event,
            place=approximate_place(event.ip_address, academie) if event.ip_address else "",
            browser=parse_user_agent(event.user_agent).label if event.user_agent else "",
            actor=_actor_label(event, user, referents),
        )
        for event in events
    ]
    return render(request, "devices/activity.html", {"rows": rows, "page": page})


@manager_required
@require_http_methods(["GET", "POST"])
def manage_end_sessions(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A référent (their establishments' pupils and parents) or the DSI ends someone's sessions:
    a confirmation page, then a POST."""
    account = get_managed_account_or_404(request.user, pk)
    if request.method == "POST":
        count = actions.end_user_sessions(acting_user=request.user, user=account, request=request)
        name = account.get_full_name()
        messages.success(
            request,
            ngettext(
                "%(count)d session de %(name)s a été terminée.",
                "%(count)d sessions de %(name)s ont été terminées.",
                count,
            )
            % {"count": count, "name": name}
            if count
            else _("%(name)s n'avait aucune session ouverte.") % {"name": name},
        )
        return redirect("devices:manage_end_sessions", pk=account.pk)
    context: dict[str, Any] = {
        "account": account,
        # What the action ends: every stored session, refused ones included.
        "session_count": len(store().sessions_of(account)),
    }
    return render(request, "devices/manage_end_sessions.html", context)
