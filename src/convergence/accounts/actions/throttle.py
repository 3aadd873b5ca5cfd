"""What the sign-in throttle does besides refusing: alerts, and a way in for the real person.

* **Spraying alerts.** When the detector (accounts/throttle.py) flags an address, a network,
  the whole académie or one password tried on many accounts, the event is audited at once
  (``login.spraying_detected``) and a task e-mails the DSI (every active DSI account this school
  year, and ``SECURITY_ALERT_EMAILS``) — within seconds when the task worker runs.
* **Second-factor failures.** Each refusal of the code step is audited (``mfa.throttled``);
  after ``MFA_THROTTLE_ALERT_AFTER`` wrong codes within the window the person is told by
  e-mail that someone who knows their password is trying codes (``mfa.failures_alerted``).
* **A link for this browser.** A person whose account is under a distributed attack is refused
  in a browser the portal does not know (the account-wide counter). The sign-in page then
  offers to e-mail a link to the account's contact address; opening it marks the browser as
  known (the device cookie), which the account-wide counter never refuses. The attacker, who
  does not read that mailbox, cannot use it. Requests are answered the same way whether or not
  the account exists, and limited per (identifier, address) and in links actually sent.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_tasks import task

from convergence.accounts import events, throttle
from convergence.accounts.backends import find_candidate
from convergence.accounts.mailing import alert_security_team, contact_address
from convergence.accounts.models import AccountState, User
from convergence.audit.actions import record_event
from convergence.core import links, ratelimit
from convergence.core.http import client_ip
from convergence.core.notify import Category, notify_template
from convergence.outbox import mail

DEVICE_LINK_SALT = "convergence.accounts.device-link"
DEVICE_LINK_SECONDS = 30 * 60
# Link requests per (typed identifier, address) and links sent per account, per hour.
DEVICE_LINK_REQUESTS_PER_HOUR = 5
DEVICE_LINKS_SENT_PER_HOUR = 3

SCOPE_LABELS = {
    "address": _("une adresse réseau"),
    "network": _("un réseau"),
    "academie": _("l'ensemble de l'académie"),
    "password": _("un même mot de passe essayé sur de nombreux comptes"),
}


# --- Spraying -------------------------------------------------------------------------------


def alert_spraying(*, request: HttpRequest, detections: Sequence[throttle.Detection]) -> None:
    """Audit each new detection and have the DSI told by e-mail (task)."""
    for detection in detections:
        record_event(
            event_type=events.LOGIN_SPRAYING_DETECTED,
            request=request,
            data={
                "scope": detection.scope,
                # A password's digest is not shown: it would help nobody and it is a password's.
                "source": detection.value if detection.scope != "password" else "",
                "failures": detection.failures,
            },
        )
        deliver_spraying_alert.enqueue(
            scope=detection.scope,
            source=detection.value if detection.scope != "password" else "",
            failures=detection.failures,
            detected_at=timezone.now().isoformat(),
        )


@task()
def deliver_spraying_alert(*, scope: str, source: str, failures: int, detected_at: str) -> bool:
    """Tell the DSI and the security mailboxes about a detection (task worker); False when
    nobody could be told."""
    context = {
        "scope": SCOPE_LABELS.get(scope, scope),
        "source": source,
        "failures": failures,
        "when": datetime.datetime.fromisoformat(detected_at),
        "flag_minutes": settings.THROTTLE_SPRAY_FLAG_SECONDS // 60,
        "pace_seconds": settings.THROTTLE_SPRAY_PACE_SECONDS,
    }
    return alert_security_team("accounts/mail/spraying_alert", context)


# --- Second factor --------------------------------------------------------------------------


def second_factor_refused(
    *, request: HttpRequest, user: Any, verdict: throttle.Verdict
) -> ValidationError:
    """Audit a refused code step; the error to raise (the response becomes a 429)."""
    request.retry_after = verdict.retry_after  # type: ignore[attr-defined]
    record_event(
        event_type=events.MFA_THROTTLED,
        request=request,
        subject=user if isinstance(user, User) else None,
        data={"retry_after": verdict.retry_after, "reason": verdict.reason},
    )
    seconds = verdict.retry_after
    message = ngettext(
        "Trop de codes erronés. Réessayez dans %(seconds)d seconde.",
        "Trop de codes erronés. Réessayez dans %(seconds)d secondes.",
        seconds,
    ) % {"seconds": seconds}
    return ValidationError(message, code="throttled")


def second_factor_failed(*, request: HttpRequest, user: Any, account: str) -> None:
    """Count a wrong code for the person's alert; tell them once when it reaches the line."""
    if not isinstance(user, User):
        return
    counter = ratelimit.key("mfa-alert", account)
    failures = ratelimit.reserve(counter, window=settings.THROTTLE_WINDOW_SECONDS)
    if failures != settings.MFA_THROTTLE_ALERT_AFTER:
        return
    record_event(
        event_type=events.MFA_FAILURES_ALERTED,
        request=request,
        subject=user,
        data={"failures": failures},
    )
    base = links.base_url(request)
    notify_template(
        [user],
        "accounts/mail/mfa_failures",
        {
            "user": user,
            "failures": failures,
            "when": timezone.now(),
            "password_url": base + reverse("account_change_password"),
            "devices_url": base + reverse("devices:list"),
        },
        category=Category.SECURITE,
        url=reverse("devices:list"),
    )


# --- A link for this browser ----------------------------------------------------------------


class DeviceLinkThrottled(Exception):
    """Too many link requests for this identifier from this address."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


def request_device_link(*, identifier: str, request: HttpRequest) -> None:
    """Have a link that marks a browser as known sent to the account's contact address.

    The same whatever the identifier: one audit row, one task; the task decides whether there
    is an account and an address, and caps links sent per account. Raises
    ``DeviceLinkThrottled`` past the (identifier, address) limit, for every identifier alike.
    """
    identifier = identifier.strip().lower()[:254]
    wait = ratelimit.hit(
        ratelimit.key("device-link-request", identifier, client_ip(request)),
        limit=DEVICE_LINK_REQUESTS_PER_HOUR,
        window=3600,
    )
    if wait:
        raise DeviceLinkThrottled(wait)
    user = find_candidate(identifier)
    record_event(
        event_type=events.DEVICE_LINK_REQUESTED,
        request=request,
        subject=user,
        identifier=identifier,
    )
    deliver_device_link.enqueue(
        user_pk=user.pk if user is not None else None,
        base_url=links.base_url(request),
    )


def _fingerprint(user: User) -> str:
    """Changes with the account's password and state: a link dies once either changes."""
    return salted_hmac(DEVICE_LINK_SALT, f"{user.password}|{user.state}").hexdigest()[:32]


def device_link_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "f": _fingerprint(user)}, salt=DEVICE_LINK_SALT)


@task()
def deliver_device_link(*, user_pk: int | None, base_url: str) -> bool:
    """Send the link (task worker); False for no account, no address or past the cap."""
    user = (
        User.objects.filter(pk=user_pk, state=AccountState.ACTIVE).first()
        if user_pk is not None
        else None
    )
    if user is None or not contact_address(user):
        return False
    sent_wait = ratelimit.hit(
        ratelimit.key("device-link-sent", user.pk), limit=DEVICE_LINKS_SENT_PER_HOUR, window=3600
    )
    if sent_wait:
        return False
    token = device_link_token(user)
    url = base_url + reverse("accounts:device_link", kwargs={"token": token})
    return mail.send(
        [contact_address(user)],
        "accounts/mail/device_link",
        {"user": user, "url": url, "minutes": DEVICE_LINK_SECONDS // 60},
    )


def approve_device(*, token: str, request: HttpRequest) -> User | None:
    """The account a valid, unused link designates (audited), else None.

    The caller gives the browser the account's device cookie. A link works once.
    """
    try:
        payload = signing.loads(token, salt=DEVICE_LINK_SALT, max_age=DEVICE_LINK_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict):
        return None
    user_pk = payload.get("u")
    if not isinstance(user_pk, int):
        return None
    user = User.objects.filter(pk=user_pk, state=AccountState.ACTIVE).first()
    if user is None or payload.get("f") != _fingerprint(user):
        return None
    if not ratelimit.first_time(
        ratelimit.key("device-link-used", token), window=DEVICE_LINK_SECONDS
    ):
        return None
    record_event(event_type=events.DEVICE_APPROVED, request=request, actor=user, subject=user)
    return user
