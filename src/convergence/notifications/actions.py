"""Every write of the notifications app: the sink of ``core.notify.notify``, the e-mails
(immediate, after quiet hours, daily digests), reading, a person's preferences, and the
purge of old notifications. Web push (devices, sending) is in ``push_actions.py``.

Storing a notification and marking it read are not audited: they are messages to a
person, not anyone's decision, and a busy person gets many. Changing one's preferences is
(``events.PREFERENCES_CHANGED``).

E-mail is at most once: a notification's e-mail is claimed (one conditional UPDATE of its
``email_state``) before it is handed to ``outbox.mail.send``, which keeps it for another
try when the mail server cannot take it now. So the task sent after a fan-out and the
scheduled job may race without sending anything twice.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from convergence.accounts.mailing import contact_address
from convergence.accounts.models import AccountState, User
from convergence.audit.actions import record_event
from convergence.core.links import base_url
from convergence.core.notify import LOCKED, Category
from convergence.notifications import counter, events
from convergence.notifications.models import (
    Channel,
    DeliverySettings,
    EmailMode,
    EmailState,
    Notification,
    Preference,
    PushState,
    PushSubscription,
)
from convergence.notifications.preferences import CHUNK, Plan, Schedule, plans
from convergence.outbox import mail

logger = logging.getLogger(__name__)

BATCH = 1000
DUE_PER_RUN = 2000
# The purge (``purge_old_notifications``, a daily job): read ones after 90 days, unread ones
# after a year.
READ_KEPT_DAYS = 90
UNREAD_KEPT_DAYS = 365


def _email_plan(
    plan: Plan, category: str, now: datetime.datetime, *, urgent: bool
) -> tuple[str, Any]:
    if not plan.email:
        return EmailState.NONE, None
    if category in LOCKED or urgent:  # now, whatever the quiet hours or the digest
        return EmailState.WAITING, now
    if plan.schedule.email_mode == EmailMode.DIGEST:
        return EmailState.DIGEST, None
    return EmailState.WAITING, plan.schedule.quiet_ends(now)


def _push_plan(
    plan: Plan, category: str, now: datetime.datetime, *, has_device: bool, urgent: bool
) -> tuple[str, Any]:
    if not plan.push or not has_device:
        return PushState.NONE, None
    if category in LOCKED or urgent:  # now, whatever the quiet hours
        return PushState.WAITING, now
    return PushState.WAITING, plan.schedule.quiet_ends(now)


def _with_devices(pks: list[int]) -> set[int]:
    found: set[int] = set()
    for start in range(0, len(pks), CHUNK):
        found.update(
            PushSubscription.objects.filter(person__in=pks[start : start + CHUNK])
            .values_list("person", flat=True)
            .distinct()
        )
    return found


def store(
    recipients: list[Any],
    *,
    category: str,
    title: str,
    body: str,
    url: str,
    key: str,
    urgent: bool = False,
    on_due: Callable[[], None] | None = None,
    on_push_due: Callable[[], None] | None = None,
) -> int:
    """What ``core.notify.notify`` does (through ``sink.py``): one notification per person
    (already read when the person switched this category off on the portal), its e-mail
    and its push planned per their preferences (a push only for people with a subscribed
    device; an ``urgent`` one due now, past the digest and quiet hours, like security);
    when some e-mail is due now, ``on_due`` is called once committed, and ``on_push_due``
    when some push is (the sink hands the sending to the worker). The number created (a
    person who already has ``key`` gets nothing)."""
    now = timezone.now()
    people = list(recipients)
    if key:
        already = set(
            Notification.objects.filter(
                key=key, recipient__in=[person.pk for person in people]
            ).values_list("recipient", flat=True)
        )
        people = [person for person in people if person.pk not in already]
    if not people:
        return 0
    found = plans(people, category)
    devices = _with_devices([person.pk for person in people])
    rows = []
    for person in people:
        plan = found[person.pk]
        state, due = _email_plan(plan, category, now, urgent=urgent)
        push_state, push_due = _push_plan(
            plan, category, now, has_device=person.pk in devices, urgent=urgent
        )
        rows.append(
            Notification(
                recipient_id=person.pk,
                category=category,
                title=title,
                body=body,
                url=url,
                key=key,
                created_at=now,
                read_at=None if plan.portal else now,
                email_state=state,
                email_due_at=due,
                push_state=push_state,
                push_due_at=push_due,
            )
        )
    with transaction.atomic():
        # A concurrent call with the same key: the unique constraint keeps one of each.
        Notification.objects.bulk_create(rows, batch_size=BATCH, ignore_conflicts=bool(key))
        counter.changed(row.recipient_id for row in rows if row.read_at is None)
        due_now = any(
            row.email_state == EmailState.WAITING and row.email_due_at == now for row in rows
        )
        if due_now and on_due is not None:
            transaction.on_commit(on_due)
        push_now = any(
            row.push_state == PushState.WAITING and row.push_due_at == now for row in rows
        )
        if push_now and on_push_due is not None:
            transaction.on_commit(on_push_due)
    return len(rows)


def _context(notification: Notification, root: str) -> dict[str, Any]:
    return {
        "notification": notification,
        "category": Category(notification.category).label,
        "link": f"{root}{notification.url}" if notification.url else "",
        "centre_url": f"{root}{reverse('notifications:centre')}",
        "preferences_url": f"{root}{reverse('notifications:preferences')}",
    }


# What still reaches by e-mail an account that is not active (invited, suspended,
# archived): it cannot open the centre, yet a security notice about the account or the
# answer to its ticket must reach it.
BEYOND_ACTIVE = LOCKED | {Category.ASSISTANCE.value}


def _reaches(person: User, category: str) -> bool:
    return person.state == AccountState.ACTIVE or category in BEYOND_ACTIVE


def _address(person: User, category: str) -> str:
    """Where the notification's e-mail goes: the contact address of an active account; of
    any other (invited, suspended, archived) only for security and assistance ones — a
    parent told about their child's account before activating their own, a suspended
    account told about a reset or answered on its ticket."""
    return contact_address(person) if _reaches(person, category) else ""


def deliver_due_mail(*, now: datetime.datetime | None = None) -> int:
    """Send every notification e-mail whose time has come (immediate ones, and those whose
    quiet hours ended); the number sent."""
    moment = now or timezone.now()
    due = (
        Notification.objects.filter(email_state=EmailState.WAITING, email_due_at__lte=moment)
        .select_related("recipient")
        .order_by("email_due_at", "pk")[:DUE_PER_RUN]
    )
    root = base_url()
    sent = 0
    for notification in due:
        claimed = Notification.objects.filter(
            pk=notification.pk, email_state=EmailState.WAITING
        ).update(email_state=EmailState.SENT)
        if not claimed:
            continue
        address = _address(notification.recipient, notification.category)
        if not address:
            continue
        if mail.send([address], "notifications/mail/notification", _context(notification, root)):
            sent += 1
    return sent


def send_digests(*, now: datetime.datetime | None = None) -> int:
    """Send the daily digest of every person whose digest hour has come today (Paris time):
    one e-mail listing their notifications collected before that hour; those that came
    after wait for tomorrow's. The number of digests sent."""
    from convergence.notifications.preferences import schedule_of

    moment = now or timezone.now()
    people = (
        Notification.objects.filter(email_state=EmailState.DIGEST)
        .values_list("recipient", flat=True)
        .distinct()
    )
    root = base_url()
    sent = 0
    for person in User.objects.filter(pk__in=list(people)):
        schedule = schedule_of(person)
        cutoff = schedule.digest_moment(moment)
        if cutoff is None:
            continue
        items = list(
            Notification.objects.of(person)
            .filter(email_state=EmailState.DIGEST, created_at__lt=cutoff)
            .order_by("created_at", "pk")
        )
        if not items:
            continue
        claimed = Notification.objects.filter(
            pk__in=[item.pk for item in items], email_state=EmailState.DIGEST
        ).update(email_state=EmailState.SENT)
        items = [item for item in items if _reaches(person, item.category)]
        address = contact_address(person)
        if not claimed or not items or not address:
            continue
        context = {
            "person": person,
            "items": [_context(item, root) for item in items],
            "centre_url": f"{root}{reverse('notifications:centre')}",
            "preferences_url": f"{root}{reverse('notifications:preferences')}",
        }
        if mail.send([address], "notifications/mail/digest", context):
            sent += 1
    return sent


def mark_read(*, user: User, notification: Notification) -> bool:
    """The person read ``notification`` (theirs); True when it was unread."""
    done = (
        Notification.objects.of(user)
        .unread()
        .filter(pk=notification.pk)
        .update(read_at=timezone.now())
    )
    if done:
        counter.changed([user.pk])
    return bool(done)


def mark_all_read(*, user: User, category: str = "") -> int:
    """Every unread notification of the person (of ``category`` if given) is read."""
    unread = Notification.objects.of(user).unread()
    if category:
        unread = unread.filter(category=category)
    done = unread.update(read_at=timezone.now())
    if done:
        counter.changed([user.pk])
    return done


def save_preferences(
    *,
    acting_user: User,
    grid: dict[tuple[str, str], bool],
    schedule: Schedule,
    request: HttpRequest | None = None,
) -> None:
    """Store the person's whole grid (``(category, channel) -> enabled``; the locked
    categories are ignored, they stay on) and their quiet hours and e-mail mode; audited.

    Notifications already waiting follow: those of a category now off by e-mail or on
    devices are not sent there (their e-mail or push becomes ``none``), those waiting in a
    digest move to immediate e-mail (after quiet hours) when the person leaves the digest,
    and immediate ones waiting join the digest when the person chooses it."""
    with transaction.atomic():
        off: dict[str, list[str]] = {Channel.EMAIL: [], Channel.PUSH: []}
        for (category, channel), enabled in grid.items():
            if category in LOCKED or category not in Category.values:
                continue
            if channel not in Channel.values:
                continue
            Preference.objects.update_or_create(
                person=acting_user,
                category=category,
                channel=channel,
                defaults={"enabled": bool(enabled)},
            )
            if not enabled and channel in off:
                off[channel].append(category)
        mine = Notification.objects.of(acting_user)
        if off[Channel.EMAIL]:
            mine.filter(
                category__in=off[Channel.EMAIL],
                email_state__in=[EmailState.WAITING, EmailState.DIGEST],
            ).update(email_state=EmailState.NONE, email_due_at=None)
        if off[Channel.PUSH]:
            mine.filter(category__in=off[Channel.PUSH], push_state=PushState.WAITING).update(
                push_state=PushState.NONE, push_due_at=None
            )
        DeliverySettings.objects.update_or_create(
            person=acting_user,
            defaults={
                "quiet_from": schedule.quiet_from,
                "quiet_to": schedule.quiet_to,
                "weekends_quiet": schedule.weekends_quiet,
                "email_mode": schedule.email_mode,
                "digest_hour": schedule.digest_hour,
            },
        )
        waiting = Notification.objects.of(acting_user).exclude(category__in=LOCKED)
        if schedule.email_mode == EmailMode.DIGEST:
            waiting.filter(email_state=EmailState.WAITING).update(
                email_state=EmailState.DIGEST, email_due_at=None
            )
        else:
            waiting.filter(email_state=EmailState.DIGEST).update(
                email_state=EmailState.WAITING, email_due_at=schedule.quiet_ends(timezone.now())
            )
        record_event(
            event_type=events.PREFERENCES_CHANGED,
            request=request,
            actor=acting_user,
            subject=acting_user,
            data={
                "off": sorted(f"{cat}/{chan}" for (cat, chan), on in grid.items() if not on),
                "email_mode": schedule.email_mode,
                "quiet": f"{schedule.quiet_from}-{schedule.quiet_to}",
                "weekends_quiet": schedule.weekends_quiet,
                "digest_hour": schedule.digest_hour,
            },
        )


def purge_old_notifications(*, now: datetime.datetime | None = None) -> int:
    """Delete read notifications older than ``READ_KEPT_DAYS`` and unread ones older than
    ``UNREAD_KEPT_DAYS`` (the bell of their owners recounted); the number deleted. Not
    audited: it is the retention the personal-data notice announces, not a decision."""
    moment = now or timezone.now()
    read = Notification.objects.filter(
        read_at__isnull=False,
        created_at__lt=moment - datetime.timedelta(days=READ_KEPT_DAYS),
    )
    unread = Notification.objects.filter(
        read_at__isnull=True,
        created_at__lt=moment - datetime.timedelta(days=UNREAD_KEPT_DAYS),
    )
    with transaction.atomic():
        owners = list(unread.values_list("recipient", flat=True).distinct())
        deleted = read.delete()[0] + unread.delete()[0]
        if owners:
            counter.changed(owners)
    return deleted
