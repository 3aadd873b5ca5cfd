"""Every write on tickets: opening, replies, internal notes (each with its files), states,
satisfaction, and revoking the follow-up links of a ticket opened without an account.

Each action is keyword-only, takes ``acting_user`` (None for someone without an account:
opening a ticket through the public form, then replying, reopening or rating through the
ticket's follow-up link, ``support/follow_up.py``), runs in one transaction and writes its
audit row; the requester is told of an agent's reply by e-mail once the transaction
commits, at an address that is confirmed (their account's contact address, or the one the
public form confirmed by a code), with the link to the ticket (the follow-up link for
someone without an account). Files arrive already checked (``attachments.check``); those
stored by an action whose transaction fails are removed again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.core import ratelimit
from convergence.core.links import absolute_url
from convergence.core.models import Establishment
from convergence.core.notify import Category, notify_template
from convergence.outbox import mail
from convergence.support import events, follow_up, tickets
from convergence.support.attachments import CheckedFile, attachment_storage
from convergence.support.hours import after_opening_hours
from convergence.support.models import (
    Status,
    Ticket,
    TicketAttachment,
    TicketCounter,
    TicketMessage,
)


class TicketError(Exception):
    """The action does not apply to the ticket as it is now (a French message)."""


def _next_number(year: int) -> int:
    """The year's next number: the UPDATE locks the counter row until commit, so two
    tickets opened together never get the same one."""
    for _attempt in range(3):
        if TicketCounter.objects.filter(year=year).update(last=F("last") + 1):
            return TicketCounter.objects.get(year=year).last
        try:
            with transaction.atomic():
                TicketCounter.objects.create(year=year, last=1)
            return 1
        except IntegrityError:
            continue  # created by another opening meanwhile: take the UPDATE path
    raise RuntimeError("ticket counter unavailable")


@contextmanager
def _stored_files() -> Iterator[list[str]]:
    """The names of files stored inside the block, deleted if the block fails: the rows
    that named them are rolled back."""
    names: list[str] = []
    try:
        yield names
    except BaseException:
        for name in names:
            attachment_storage().delete(name)
        raise


# How many files one ticket may gather, and one person (an account, or the confirmed address
# of someone without one) may join in a day: each file is checked and stored, so an account
# replying in a loop must not fill the disk.
MAX_FILES_PER_TICKET = 30
MAX_FILES_PER_DAY = 30


def _admit(*, ticket: Ticket, files: Sequence[CheckedFile], acting_user: User | None) -> None:
    """Refuse (``TicketError``) files past the ticket's or the person's quota; the person's
    count is kept atomically in the shared limiter, and counts refused files too."""
    held = TicketAttachment.objects.filter(ticket=ticket).count()
    if held + len(files) > MAX_FILES_PER_TICKET:
        raise TicketError(
            _(
                "Cette demande a déjà %(count)s pièces jointes sur %(limit)s possibles : "
                "envoyez votre message sans fichier, ou décrivez ce qu'ils montrent."
            )
            % {"count": held, "limit": MAX_FILES_PER_TICKET}
        )
    who = (
        f"user:{acting_user.pk}"
        if acting_user is not None
        else f"email:{ticket.requester_email.lower()}"
    )
    counter = ratelimit.key("support-files", who)
    for _file in files:
        if ratelimit.reserve(counter, window=24 * 3600) > MAX_FILES_PER_DAY:
            raise TicketError(
                _(
                    "Vous avez joint %(limit)s fichiers aujourd'hui, le maximum : envoyez votre "
                    "message sans fichier, ou réessayez demain."
                )
                % {"limit": MAX_FILES_PER_DAY}
            )


def _attach(
    *,
    ticket: Ticket,
    message: TicketMessage | None,
    files: Sequence[CheckedFile],
    acting_user: User | None,
    now: dt.datetime,
    stored: list[str],
) -> None:
    if not files:
        return
    _admit(ticket=ticket, files=files, acting_user=acting_user)
    rows = []
    for checked in files:
        row = TicketAttachment(
            ticket=ticket,
            message=message,
            name=checked.name,
            content_type=checked.content_type,
            size=checked.size,
            uploaded_by=acting_user,
            created_at=now,
        )
        row.file.save(checked.name, checked.upload, save=False)
        stored.append(row.file.name or "")
        rows.append(row)
    TicketAttachment.objects.bulk_create(rows)


def open_ticket(
    *,
    acting_user: User | None,
    category: str,
    description: str,
    email: str = "",
    establishment: Establishment | None = None,
    profiles: frozenset[str] = frozenset(),
    roles: frozenset[str] = frozenset(),
    department_ids: frozenset[int] = frozenset(),
    context: dict[str, Any] | None = None,
    attachments: Sequence[CheckedFile] = (),
    now: dt.datetime | None = None,
) -> Ticket:
    """Open a ticket, numbered ``AST-<year>-<000123>``, routed by profile and department,
    with its delays counted in the team's opening hours and its files joined. One
    transaction, audited."""
    now = now or timezone.now()
    team = tickets.team_for(profiles=profiles, roles=roles, department_ids=department_ids)
    schedule = tickets.schedule_of(team)
    first_hours = team.first_answer_hours if team else 8
    resolution_hours = team.resolution_hours if team else 40
    with _stored_files() as stored, transaction.atomic():
        number = _next_number(now.year)
        ticket = Ticket.objects.create(
            reference=f"AST-{now.year}-{number:06d}",
            requester=acting_user,
            requester_email=email if acting_user is None else "",
            category=category,
            description=description,
            team=team,
            establishment=establishment,
            context=context or {},
            created_at=now,
            first_answer_due=after_opening_hours(schedule, now, dt.timedelta(hours=first_hours)),
            resolution_due=after_opening_hours(schedule, now, dt.timedelta(hours=resolution_hours)),
        )
        _attach(
            ticket=ticket,
            message=None,
            files=attachments,
            acting_user=acting_user,
            now=now,
            stored=stored,
        )
        record_event(
            event_type=events.TICKET_OPENED,
            actor=acting_user,
            identifier=email if acting_user is None else "",
            data={
                "ticket": ticket.reference,
                "team": team.slug if team else "",
                "attachments": len(attachments),
            },
        )
    return ticket


def _tell_requester(ticket: Ticket, message: TicketMessage) -> None:
    """A requester with an account gets a notification (« Assistance »: the centre, and
    e-mail or push as their preferences say); one without gets an e-mail with their personal
    follow-up link (they have no centre)."""
    context = {
        "ticket": ticket,
        "message": message,
        "follow_up": ticket.requester is None,
        "days": follow_up.VALID_DAYS,
    }
    if ticket.requester is not None:
        path = reverse("support:ticket", kwargs={"reference": ticket.reference})
        notify_template(
            [ticket.requester],
            "support/mail/ticket_replied",
            {**context, "link": absolute_url(path)},
            category=Category.ASSISTANCE,
            url=path,
            key=f"ticket-{ticket.reference}-message-{message.pk}",
        )
        return
    address = ticket.requester_email
    if not address:
        return
    context["link"] = follow_up.url_for(ticket)
    transaction.on_commit(lambda: mail.send([address], "support/mail/ticket_replied", context))


def _without_account(ticket: Ticket, acting_user: User | None) -> tuple[str, dict[str, str]]:
    """The audit identifier and data of an action by the requester without an account
    (``acting_user`` None): their address (stored as a digest) instead of an actor, and the
    follow-up link it came through; nothing for a signed-in person."""
    if acting_user is not None:
        return "", {}
    if ticket.requester_id is not None or not ticket.requester_email:
        raise ValueError("Only the requester of a ticket without an account acts without one.")
    return ticket.requester_email, {"via": "follow_up_link"}


def reply(
    *,
    acting_user: User | None,
    ticket: Ticket,
    body: str,
    as_agent: bool,
    attachments: Sequence[CheckedFile] = (),
    now: dt.datetime | None = None,
) -> TicketMessage:
    """Add a reply visible to the requester, with its files. An agent's first reply stops
    the first-answer clock and the ticket waits for the requester, who is told by e-mail;
    the requester's reply puts it back in progress. ``acting_user`` None is the requester
    without an account, through the follow-up link (audited with their address's digest)."""
    if acting_user is None and as_agent:
        raise ValueError("An agent's reply names the agent.")
    identifier, via = _without_account(ticket, acting_user)
    now = now or timezone.now()
    with _stored_files() as stored, transaction.atomic():
        message = TicketMessage.objects.create(
            ticket=ticket, author=acting_user, from_agent=as_agent, body=body, created_at=now
        )
        _attach(
            ticket=ticket,
            message=message,
            files=attachments,
            acting_user=acting_user,
            now=now,
            stored=stored,
        )
        fields = ["status"]
        if as_agent:
            if ticket.first_answered_at is None:
                ticket.first_answered_at = now
                fields.append("first_answered_at")
            if ticket.is_open:
                ticket.status = Status.WAITING
        elif ticket.status == Status.WAITING:
            ticket.status = Status.IN_PROGRESS
        ticket.save(update_fields=fields)
        record_event(
            event_type=events.TICKET_REPLIED,
            actor=acting_user,
            identifier=identifier,
            data={
                "ticket": ticket.reference,
                "agent": as_agent,
                "attachments": len(attachments),
                **via,
            },
        )
        if as_agent:
            _tell_requester(ticket, message)
    return message


def add_internal_note(
    *,
    acting_user: User,
    ticket: Ticket,
    body: str,
    attachments: Sequence[CheckedFile] = (),
    now: dt.datetime | None = None,
) -> TicketMessage:
    """A note for agents only, with its files; the requester never sees them nor hears of
    them."""
    now = now or timezone.now()
    with _stored_files() as stored, transaction.atomic():
        note = TicketMessage.objects.create(
            ticket=ticket,
            author=acting_user,
            from_agent=True,
            is_internal=True,
            body=body,
            created_at=now,
        )
        _attach(
            ticket=ticket,
            message=note,
            files=attachments,
            acting_user=acting_user,
            now=now,
            stored=stored,
        )
        record_event(
            event_type=events.TICKET_NOTE_ADDED,
            actor=acting_user,
            data={"ticket": ticket.reference, "attachments": len(attachments)},
        )
    return note


def change_status(
    *, acting_user: User, ticket: Ticket, status: str, now: dt.datetime | None = None
) -> bool:
    """An agent sets the state; resolving and closing stamp their time. False if unchanged."""
    if status == ticket.status:
        return False
    now = now or timezone.now()
    previous = ticket.status
    with transaction.atomic():
        ticket.status = status
        ticket.resolved_at = now if status == Status.RESOLVED else ticket.resolved_at
        if status in (Status.NEW, Status.IN_PROGRESS, Status.WAITING):
            ticket.resolved_at = None
        ticket.closed_at = now if status == Status.CLOSED else None
        ticket.save(update_fields=["status", "resolved_at", "closed_at"])
        record_event(
            event_type=events.TICKET_STATUS_CHANGED,
            actor=acting_user,
            data={"ticket": ticket.reference, "from": previous, "to": status},
        )
    return True


def reopen(*, acting_user: User | None, ticket: Ticket, now: dt.datetime | None = None) -> None:
    """The requester reopens a ticket resolved less than seven days ago (``acting_user``
    None: the requester without an account, through the follow-up link)."""
    identifier, via = _without_account(ticket, acting_user)
    now = now or timezone.now()
    if not tickets.may_reopen(ticket, now):
        raise TicketError(_("Cette demande ne peut plus être rouverte : ouvrez-en une nouvelle."))
    with transaction.atomic():
        ticket.status = Status.IN_PROGRESS
        ticket.resolved_at = None
        ticket.save(update_fields=["status", "resolved_at"])
        record_event(
            event_type=events.TICKET_REOPENED,
            actor=acting_user,
            identifier=identifier,
            data={
                "ticket": ticket.reference,
                **via,
            },
        )


def close(*, acting_user: User, ticket: Ticket, now: dt.datetime | None = None) -> None:
    """Close a ticket (the requester or an agent); then the requester may rate it."""
    if ticket.status == Status.CLOSED:
        return
    with transaction.atomic():
        ticket.status = Status.CLOSED
        ticket.closed_at = now or timezone.now()
        ticket.save(update_fields=["status", "closed_at"])
        record_event(
            event_type=events.TICKET_CLOSED,
            actor=acting_user,
            data={"ticket": ticket.reference},
        )


def rate(*, acting_user: User | None, ticket: Ticket, satisfaction: int) -> None:
    """The requester's satisfaction, 1 to 5, once, after closing (``acting_user`` None: the
    requester without an account, through the follow-up link)."""
    identifier, via = _without_account(ticket, acting_user)
    if ticket.status != Status.CLOSED or ticket.satisfaction is not None:
        raise TicketError(_("Cette demande ne peut pas être évaluée."))
    with transaction.atomic():
        ticket.satisfaction = satisfaction
        ticket.save(update_fields=["satisfaction"])
        record_event(
            event_type=events.TICKET_RATED,
            actor=acting_user,
            identifier=identifier,
            data={
                "ticket": ticket.reference,
                "satisfaction": satisfaction,
                **via,
            },
        )


def revoke_follow_up_links(*, acting_user: User, ticket: Ticket) -> None:
    """Void every follow-up link of ``ticket`` given so far (one leaked, say) and mail the
    requester a fresh one once the transaction commits. Only an agent of the ticket, and
    only for a ticket opened without an account (``TicketError`` otherwise)."""
    if not Ticket.objects.agent_of(acting_user).filter(pk=ticket.pk).exists():
        raise TicketError(_("Seul un agent de cette demande peut révoquer ses liens de suivi."))
    if ticket.requester_id is not None or not ticket.requester_email:
        raise TicketError(_("Cette demande n'a pas de lien de suivi : son demandeur a un compte."))
    with transaction.atomic():
        # The UPDATE locks the row until commit: two revocations together both count.
        Ticket.objects.filter(pk=ticket.pk).update(
            follow_up_generation=F("follow_up_generation") + 1
        )
        ticket.refresh_from_db(fields=["follow_up_generation"])
        record_event(
            event_type=events.TICKET_FOLLOW_UP_REVOKED,
            actor=acting_user,
            data={"ticket": ticket.reference, "generation": ticket.follow_up_generation},
        )
        address = ticket.requester_email
        context = {
            "ticket": ticket,
            "link": follow_up.url_for(ticket),
            "days": follow_up.VALID_DAYS,
        }
        transaction.on_commit(
            lambda: mail.send([address], "support/mail/follow_up_renewed", context)
        )
