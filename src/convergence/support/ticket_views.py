"""Ticket pages: the requester's list, detail and new request, the public form for someone
who cannot sign in, the agents' queue and the download of a ticket's files. Thin: validate,
call one action, render."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages as notices
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from convergence.accounts.models import Role, User
from convergence.accounts.permissions import holds_role
from convergence.audit.actions import record_refusal
from convergence.core import errors
from convergence.core.models import Establishment
from convergence.devices.labels import browser_label
from convergence.support import contacts as directory
from convergence.support import email_codes, follow_up, tickets
from convergence.support.actions import tickets as actions
from convergence.support.forms import (
    MessageForm,
    PublicEmailForm,
    PublicTicketForm,
    QueueFilterForm,
    RatingForm,
    StatusForm,
    TicketForm,
)
from convergence.support.models import Status, Team, Ticket, TicketAttachment, TicketMessage

logger = logging.getLogger(__name__)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _context_of(request: HttpRequest, audience: directory.Audience) -> dict[str, Any]:
    """What is captured for the agents when a signed-in person opens a ticket."""
    names = list(
        Establishment.objects.filter(pk__in=audience.establishment_ids)
        .order_by("name")
        .values_list("name", flat=True)
    )
    return {
        "profiles": sorted(str(p) for p in audience.profiles),
        "roles": sorted(audience.roles),
        "establishments": names,
        "browser": browser_label(request.META.get("HTTP_USER_AGENT", "")),
        "at": timezone.now().isoformat(timespec="seconds"),
        "last_error_code": errors.last_shown(request),
    }


@login_required
def my_tickets(request: HttpRequest) -> HttpResponse:
    found = Ticket.objects.filter(requester=_user(request)).select_related("establishment")
    return render(
        request, "support/tickets.html", {"tickets": found, "is_agent": is_agent(_user(request))}
    )


@login_required
@require_http_methods(["GET", "POST"])
def new_ticket(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    audience = directory.audience_of(user)
    context = _context_of(request, audience)
    form = TicketForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        establishment_ids=audience.establishment_ids,
    )
    if request.method == "POST" and form.is_valid():
        establishment = form.cleaned_data.get("establishment")
        if establishment is None and len(audience.establishment_ids) == 1:
            establishment = Establishment.objects.get(pk=next(iter(audience.establishment_ids)))
        try:
            ticket = actions.open_ticket(
                acting_user=user,
                category=form.cleaned_data["category"],
                description=form.cleaned_data["description"],
                establishment=establishment,
                profiles=audience.profiles,
                roles=audience.roles,
                department_ids=(
                    frozenset({establishment.department_id})
                    if establishment is not None
                    else audience.department_ids
                ),
                context=context,
                attachments=form.cleaned_data["attachments"],
            )
        except actions.TicketError as refused:  # past the files' quota: the text is kept
            form.add_error("attachments", str(refused))
        else:
            return redirect("support:ticket", reference=ticket.reference)
    return render(request, "support/new_ticket.html", {"form": form, "captured": context})


@require_http_methods(["GET", "POST"])
def public_ticket(request: HttpRequest) -> HttpResponse:
    """For someone who cannot sign in: an address confirmed by a code, then the ticket."""
    opened: Ticket | None = None
    email = email_codes.pending_email(request)
    email_form = PublicEmailForm(request.POST if request.POST.get("step") == "email" else None)
    ticket_step = request.method == "POST" and request.POST.get("step") == "ticket"
    ticket_form = PublicTicketForm(
        request.POST if ticket_step else None, request.FILES if ticket_step else None
    )
    last_error_code = errors.last_shown(request)
    status, wait = 200, 0
    if request.method == "POST" and request.POST.get("step") == "email" and email_form.is_valid():
        wait = email_codes.send_code(request, email_form.cleaned_data["email"])
        if wait:
            email_form.add_error(None, _("Trop de codes demandés : réessayez plus tard."))
            status = 429
        email = email_codes.pending_email(request)
    elif (
        request.method == "POST" and request.POST.get("step") == "ticket" and ticket_form.is_valid()
    ):
        confirmed, wait = email_codes.check_code(request, ticket_form.cleaned_data["code"])
        if wait:
            ticket_form.add_error("code", _("Trop d'essais : réessayez dans une heure."))
            status = 429
        elif not confirmed:
            ticket_form.add_error("code", _("Ce code n'est pas le bon, ou il a expiré."))
            status = 400
        else:
            department = ticket_form.cleaned_data["department"]
            opened = _open_public_ticket(
                ticket_form,
                email=confirmed,
                category=ticket_form.cleaned_data["category"],
                description=ticket_form.cleaned_data["description"],
                profiles=frozenset({ticket_form.cleaned_data["profile"]}),
                department_ids=frozenset({department.pk}) if department else frozenset(),
                context={
                    "profiles": [ticket_form.cleaned_data["profile"]],
                    "browser": browser_label(request.META.get("HTTP_USER_AGENT", "")),
                    "at": timezone.now().isoformat(timespec="seconds"),
                    "without_account": True,
                    "last_error_code": last_error_code,
                },
                attachments=ticket_form.cleaned_data["attachments"],
            )
            status = 200 if opened is not None else 400
    response = render(
        request,
        "support/public_ticket.html",
        {
            "email": email,
            "email_form": email_form,
            "form": ticket_form,
            "opened": opened,
            "follow_up_url": follow_up.url_for(opened, request) if opened else "",
            "follow_up_days": follow_up.VALID_DAYS,
            "last_error_code": last_error_code,
        },
        status=status,
    )
    if wait:
        response["Retry-After"] = str(wait)
    if opened is not None:
        # The page names the follow-up link: a shared cache must not keep it.
        response["Cache-Control"] = "private, no-store"
    return response


def _open_public_ticket(form: PublicTicketForm, **fields: Any) -> Ticket | None:
    """``actions.open_ticket`` for the public form; None, with the refusal on the form's
    files (the text typed is kept), past the files' quota."""
    try:
        return actions.open_ticket(acting_user=None, **fields)
    except actions.TicketError as refused:
        form.add_error("attachments", str(refused))
        return None


def is_agent(user: Any) -> bool:
    """Whether ``user`` answers tickets: a DSI, a référent, a team's named member."""
    if not isinstance(user, User):
        return False
    return (
        holds_role(user, Role.DSI, Role.REFERENT)
        or Team.members.through.objects.filter(user=user).exists()
    )


def _refuse(request: HttpRequest, reference: str) -> Http404:
    record_refusal(kind="support_ticket", request=request, actor=request.user, target=reference)
    return Http404(_("Demande introuvable."))


@login_required
@require_http_methods(["GET", "POST"])
def ticket_detail(request: HttpRequest, reference: str) -> HttpResponse:
    user = _user(request)
    ticket = (
        Ticket.objects.visible_to(user)
        .select_related("team", "establishment", "requester")
        .filter(reference=reference)
        .first()
    )
    if ticket is None:
        raise _refuse(request, reference)
    as_agent = Ticket.objects.agent_of(user).filter(pk=ticket.pk).exists()
    # Only a ticket opened without an account has follow-up links to revoke.
    may_revoke_links = as_agent and ticket.requester_id is None and bool(ticket.requester_email)
    now = timezone.now()
    action = request.POST.get("action", "")
    message_form = MessageForm(
        request.POST if action in ("reply", "note") else None,
        request.FILES if action in ("reply", "note") else None,
    )
    status_form = StatusForm(
        request.POST if action == "status" else None, initial={"status": ticket.status}
    )
    rating_form = RatingForm(request.POST if action == "rate" else None)
    error = ""
    if request.method == "POST":
        try:
            if action == "reply" and ticket.is_open and message_form.is_valid():
                actions.reply(
                    acting_user=user,
                    ticket=ticket,
                    body=message_form.cleaned_data["body"],
                    as_agent=as_agent and ticket.requester_id != user.pk,
                    attachments=message_form.cleaned_data["attachments"],
                )
                return redirect("support:ticket", reference=reference)
            if action == "note" and as_agent and message_form.is_valid():
                actions.add_internal_note(
                    acting_user=user,
                    ticket=ticket,
                    body=message_form.cleaned_data["body"],
                    attachments=message_form.cleaned_data["attachments"],
                )
                return redirect("support:ticket", reference=reference)
            if action == "status" and as_agent and status_form.is_valid():
                actions.change_status(
                    acting_user=user, ticket=ticket, status=status_form.cleaned_data["status"]
                )
                return redirect("support:ticket", reference=reference)
            if action == "revoke_links" and may_revoke_links:
                actions.revoke_follow_up_links(acting_user=user, ticket=ticket)
                notices.success(
                    request,
                    _(
                        "Les anciens liens de suivi ne fonctionnent plus ; un nouveau lien a été "
                        "envoyé au demandeur."
                    ),
                )
                return redirect("support:ticket", reference=reference)
            if action == "reopen" and ticket.requester_id == user.pk:
                actions.reopen(acting_user=user, ticket=ticket)
                return redirect("support:ticket", reference=reference)
            if action == "close":
                actions.close(acting_user=user, ticket=ticket)
                return redirect("support:ticket", reference=reference)
            if action == "rate" and ticket.requester_id == user.pk and rating_form.is_valid():
                actions.rate(
                    acting_user=user,
                    ticket=ticket,
                    satisfaction=rating_form.cleaned_data["satisfaction"],
                )
                return redirect("support:ticket", reference=reference)
        except actions.TicketError as refused:
            error = str(refused)
    messages = (
        TicketMessage.objects.filter(ticket=ticket)
        .select_related("author")
        .prefetch_related("attachments")
    )
    if not as_agent:
        messages = messages.shown_to_requester()
    return render(
        request,
        "support/ticket.html",
        {
            "ticket": ticket,
            "as_agent": as_agent,
            "messages_list": messages,
            "ticket_files": TicketAttachment.objects.filter(ticket=ticket, message__isnull=True),
            "message_form": message_form,
            "status_form": status_form,
            "rating_form": rating_form,
            "sla": tickets.sla_of(ticket, now) if as_agent else None,
            "may_revoke_links": may_revoke_links,
            "may_reopen": ticket.requester_id == user.pk and tickets.may_reopen(ticket, now),
            "may_rate": ticket.requester_id == user.pk
            and ticket.status == Status.CLOSED
            and ticket.satisfaction is None,
            "error": error,
        },
        status=409 if error else (400 if request.method == "POST" else 200),
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def attachment(request: HttpRequest, reference: str, pk: int) -> FileResponse:
    """A ticket's file, for whoever may see it there (404 for anyone else), always as a
    download in its checked type: the browser neither shows nor guesses it."""
    found = (
        TicketAttachment.objects.visible_to(_user(request))
        .filter(ticket__reference=reference, pk=pk)
        .first()
    )
    if found is None:
        raise _refuse(request, reference)
    return download(found)


def download(found: TicketAttachment) -> FileResponse:
    """``found`` as a download in its checked type, kept by no cache (every way to a
    ticket's file ends here)."""
    try:
        handle = found.file.open("rb")
    except FileNotFoundError:
        logger.error("Attachment %s of a ticket is missing from the storage.", found.pk)
        raise Http404(_("Pièce jointe introuvable.")) from None
    response = FileResponse(
        handle, as_attachment=True, filename=found.name, content_type=found.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # Opened by hand from the downloads folder or not, it runs nothing in the portal's origin.
    response["Content-Security-Policy"] = "sandbox"
    return response


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """The agents' queue, filtered by state, team and établissement, with counts."""
    user = _user(request)
    if not is_agent(user):
        raise _refuse(request, "file")
    mine = Ticket.objects.agent_of(user)
    form = QueueFilterForm(request.GET or None)
    form.is_valid()
    wanted = form.cleaned_data if form.is_bound else {}
    found = mine
    if wanted.get("team"):
        found = found.filter(team_id=wanted["team"])
    if wanted.get("establishment"):
        found = found.filter(establishment_id=wanted["establishment"])
    counts = {row["status"]: row["n"] for row in found.values("status").annotate(n=Count("pk"))}
    if wanted.get("status"):
        found = found.filter(status=wanted["status"])
    now = timezone.now()
    rows = [
        (ticket, tickets.sla_of(ticket, now))
        for ticket in found.select_related("team", "establishment", "requester")[:200]
    ]
    teams = Team.objects.filter(pk__in=mine.values("team")).order_by("name")
    establishments = Establishment.objects.filter(pk__in=mine.values("establishment")).order_by(
        "name"
    )
    return render(
        request,
        "support/queue.html",
        {
            "rows": rows,
            "counts": [(value, label, counts.get(value, 0)) for value, label in Status.choices],
            "form": form,
            "wanted": wanted,
            "teams": teams,
            "establishments": establishments,
            "open_count": sum(
                n
                for s, n in counts.items()
                if s in (Status.NEW, Status.IN_PROGRESS, Status.WAITING)
            ),
        },
    )
