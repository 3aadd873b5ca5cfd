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


class Throttled(Exception):
    """Too many test pushes asked for: ``retry_after`` seconds to wait."""

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
    already), in one transaction, audited. At most ``MAX_DEVICES`` per person: the oldest go.
    An endpoint another account had subscribed (a shared computer) now serves this person:
    a browser's endpoint reaches that browser only, so whoever holds it last is the one
    signed in there."""
    with transaction.atomic():
        previous = (
            PushSubscription.objects.select_for_update()
            .filter(endpoint=endpoint)
            .values_list("person", flat=True)
            .first()
        )
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
    delivered = []
    for subscription in subscriptions:
        try:
            outcome = push.send(subscription, message)
        except push.PushFailed:
            logger.warning("Push to %s failed.", _service(subscription.endpoint), exc_info=True)
            continue
        if outcome is push.Outcome.GONE:
            forget_subscription(subscription=subscription)
        else:
            delivered.append(subscription.pk)
    if delivered:
        PushSubscription.objects.filter(pk__in=delivered).update(last_used_at=timezone.now())
    return len(delivered)


def notification_message(notification: Notification) -> dict[str, str]:
    return push.payload(
        title=notification.title,
        body=notification.body,
        url=notification.url or reverse("notifications:centre"),
        tag=f"notification-{notification.pk}",
    )


def deliver_due_push(*, now: datetime.datetime | None = None) -> int:
    """Push every notification whose time has come to each device of its person; the number
    of pushes delivered. Each notification is claimed first (at most once)."""
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
        devices = list(PushSubscription.objects.of(notification.recipient).order_by("pk"))
        delivered += _send_to_devices(devices, notification_message(notification))
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
