"""Every write of web push: the devices a person subscribes or removes (audited), the ones
a push service says are gone, the pushes due and the test push.

A push is sent at most once, like e-mail: each notification's push is claimed (one
conditional UPDATE of its ``push_state``) before it goes out, so the task enqueued after a
fan-out and the scheduled job may race without a device ringing twice. A push service that
fails is logged and not retried (``push.py`` says why); the notification stays in the centre.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from convergence.accounts.models import AccountState, User
from convergence.audit.actions import record_event
from convergence.core import ratelimit
from convergence.notifications import events, push
from convergence.notifications.models import Notification, PushState, PushSubscription

logger = logging.getLogger(__name__)

MAX_DEVICES = 10
DUE_PER_RUN = 2000
TEST_PER_HOUR = 5
TEST_WINDOW = 3600
SUBSCRIBE_PER_HOUR = 20
SUBSCRIBE_WINDOW = 3600
# The endpoint a browser subscribed, kept in its session so that signing out forgets it.
SESSION_ENDPOINT = "notifications.push_endpoint"


class Throttled(Exception):
    """Too many test pushes or subscriptions asked for: ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def _service(endpoint: str) -> str:
    """The push service's host: enough to tell browsers apart, never the secret path."""
    return urlsplit(endpoint).hostname or ""


def subscribe_device(
    *,
    acting_user: User,
    endpoint: str,
    p256dh: str,
    auth: str,
    label: str,
    request: HttpRequest | None = None,
) -> PushSubscription:
    """Record this browser as one of the person's devices (its keys refreshed if it was
    already), in one transaction, audited — unless it was already theirs with the same keys
    and label: nothing is written then. At most ``MAX_DEVICES`` per person: the oldest go.
    An endpoint another account had subscribed (a shared computer) now serves this person:
    a browser's endpoint reaches that browser only, so whoever holds it last is the one
    signed in there."""
    with transaction.atomic():
        existing = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
        if (
            existing is not None
            and existing.person_id == acting_user.pk
            and (existing.p256dh, existing.auth, existing.label) == (p256dh, auth, label[:100])
        ):
            return existing
        previous = existing.person_id if existing is not None else None
        subscription, _created = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            defaults={
                "person": acting_user,
                "p256dh": p256dh,
                "auth": auth,
                "label": label[:100],
            },
        )
        surplus = list(
            PushSubscription.objects.of(acting_user)
            .order_by("-created_at", "-pk")
            .values_list("pk", flat=True)[MAX_DEVICES:]
        )
        if surplus:
            PushSubscription.objects.filter(pk__in=surplus).delete()
        record_event(
            event_type=events.PUSH_DEVICE_ADDED,
            request=request,
            actor=acting_user,
            subject=acting_user,
            data={
                "device": subscription.label,
                "service": _service(endpoint),
                "oldest_removed": len(surplus),
                "taken_from_another_account": previous is not None and previous != acting_user.pk,
            },
        )
    return subscription


def unsubscribe_device(
    *, acting_user: User, subscription: PushSubscription, request: HttpRequest | None = None
) -> None:
    """The person removes one of their devices (the caller checked it is theirs); audited."""
    with transaction.atomic():
        PushSubscription.objects.filter(pk=subscription.pk).delete()
        record_event(
            event_type=events.PUSH_DEVICE_REMOVED,
            request=request,
            actor=acting_user,
            subject=acting_user,
            data={"device": subscription.label, "service": _service(subscription.endpoint)},
        )


def count_subscription_attempt(*, acting_user: User) -> None:
    """One more subscribe request from the person: :class:`Throttled` past
    ``SUBSCRIBE_PER_HOUR`` an hour, so a script cannot churn the devices table or the audit
    trail (``ratelimit.LimiterUnavailable`` when the limiter cannot count)."""
    wait = ratelimit.hit(
        ratelimit.key("push-subscribe", acting_user.pk),
        limit=SUBSCRIBE_PER_HOUR,
        window=SUBSCRIBE_WINDOW,
    )
    if wait:
        raise Throttled(wait)


def forget_devices(*, person: User, reason: str, keep_endpoint: str = "") -> int:
    """The person's account was taken back (every other session ended: a password reset
    or change, an account no longer active) or this browser signed out: their devices stop
    receiving pushes, but ``keep_endpoint`` (the browser still signed in). Logged like
    :func:`forget_subscription`: the act that caused it is audited by its own app. The
    number of devices forgotten."""
    devices = PushSubscription.objects.of(person)
    if keep_endpoint:
        devices = devices.exclude(endpoint=keep_endpoint)
    forgotten = devices.delete()[0]
    if forgotten:
        logger.info(
            "%s push subscription(s) of person %s forgotten: %s.", forgotten, person.pk, reason
        )
    return forgotten


def forget_signed_out_device(*, person: User, endpoint: str) -> int:
    """The browser that subscribed ``endpoint`` during this session signs out: it stops
    receiving the person's pushes (a shared computer). Logged; the number forgotten."""
    forgotten = PushSubscription.objects.of(person).filter(endpoint=endpoint).delete()[0]
    if forgotten:
        logger.info(
            "Push subscription of person %s forgotten: its browser signed out (%s).",
            person.pk,
            _service(endpoint),
        )
    return forgotten


def forget_subscription(*, subscription: PushSubscription) -> None:
    """The push service answered 404 or 410: the browser unsubscribed or was reset, so the
    row goes. Logged, not audited: nobody decided anything, and a key change or a browser
    clean-up can make thousands go at once."""
    PushSubscription.objects.filter(pk=subscription.pk).delete()
    logger.info(
        "Push subscription %s of person %s forgotten: gone from %s.",
        subscription.pk,
        subscription.person_id,
        _service(subscription.endpoint),
    )


def _send_to_devices(subscriptions: list[PushSubscription], message: dict[str, str]) -> int:
    """Each device on its own: one that fails, whatever the reason, is logged and the
    others still get the push."""
    delivered = []
    for subscription in subscriptions:
        try:
            outcome = push.send(subscription, message)
            if outcome is push.Outcome.GONE:
                forget_subscription(subscription=subscription)
                continue
        except push.PushFailed:
            logger.warning("Push to %s failed.", _service(subscription.endpoint), exc_info=True)
            continue
        except Exception:  # a bug with one device must not stop the others
            logger.exception("Push to %s failed unexpectedly.", _service(subscription.endpoint))
            continue
        delivered.append(subscription.pk)
    if delivered:
        PushSubscription.objects.filter(pk__in=delivered).update(last_used_at=timezone.now())
    return len(delivered)


def notification_message(notification: Notification) -> dict[str, str]:
    """The push of ``notification``, leading to its link, else (none, or too long to push)
    to the centre."""
    centre = reverse("notifications:centre")
    return push.payload(
        title=notification.title,
        body=notification.body,
        url=notification.url or centre,
        tag=f"notification-{notification.pk}",
        fallback_url=centre,
    )


def deliver_due_push(*, now: datetime.datetime | None = None) -> int:
    """Push every notification whose time has come to each device of its person; the number
    of pushes delivered. Each notification is claimed first (at most once); one that fails,
    whatever the reason, is logged and the others still go."""
    moment = now or timezone.now()
    due = (
        Notification.objects.filter(push_state=PushState.WAITING, push_due_at__lte=moment)
        .select_related("recipient")
        .order_by("push_due_at", "pk")[:DUE_PER_RUN]
    )
    delivered = 0
    for notification in due:
        claimed = Notification.objects.filter(
            pk=notification.pk, push_state=PushState.WAITING
        ).update(push_state=PushState.SENT)
        if not claimed or notification.recipient.state != AccountState.ACTIVE:
            continue
        try:
            devices = list(PushSubscription.objects.of(notification.recipient).order_by("pk"))
            delivered += _send_to_devices(devices, notification_message(notification))
        except Exception:  # one notification that cannot be pushed must not hold the rest
            logger.exception("Push of notification %s failed.", notification.pk)
    return delivered


def request_test_push(*, acting_user: User, enqueue: Callable[[int], object]) -> int:
    """Have a test push sent to each of the person's devices: ``enqueue(person_pk)`` (the
    task, from the view) once committed; the number of devices. At most ``TEST_PER_HOUR``
    an hour (:class:`Throttled`), so the button cannot make the portal flood a push
    service."""
    devices = PushSubscription.objects.of(acting_user).count()
    if not devices:
        return 0
    wait = ratelimit.hit(
        ratelimit.key("push-test", acting_user.pk), limit=TEST_PER_HOUR, window=TEST_WINDOW
    )
    if wait:
        raise Throttled(wait)
    person_pk = acting_user.pk
    transaction.on_commit(lambda: enqueue(person_pk))
    return devices


def deliver_test_push(*, person_pk: int) -> int:
    """The test push itself (run by the worker); the number of devices reached."""
    devices = list(PushSubscription.objects.filter(person_id=person_pk).order_by("pk"))
    message = push.payload(
        title=_("Notification d'essai"),
        body=_("Les notifications du portail arrivent bien sur cet appareil."),
        url=reverse("notifications:preferences"),
        tag="notification-test",
    )
    return _send_to_devices(devices, message)
