"""Sessions ("Mes appareils"): ending one, the others, or all of an account's; new-device alert.

Sessions are allauth's ``UserSession`` rows (one per signed-in browser) ended through
allauth's usersessions API, which deletes the session itself, so the browser's next request
is anonymous.
"""

from __future__ import annotations

from collections.abc import Sequence

from allauth.usersessions.adapter import get_adapter
from allauth.usersessions.internal.flows import sessions as session_flows
from allauth.usersessions.models import UserSession
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from convergence.accounts import events as accounts_events
from convergence.accounts import throttle
from convergence.accounts.mailing import contact_address
from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.audit.models import AuditEvent
from convergence.core import links
from convergence.core.http import client_ip, user_agent
from convergence.devices import events
from convergence.devices.labels import approximate_place, browser_label
from convergence.outbox import mail


def end_session(*, acting_user: User, user_session: UserSession, request: HttpRequest) -> None:
    """End one of the acting person's own sessions (audited ``session.ended``).

    The caller has checked that the session is theirs. Ending the current session signs
    the person out here too.
    """
    with transaction.atomic():
        record_event(
            event_type=events.SESSION_ENDED,
            request=request,
            actor=acting_user,
            subject=acting_user,
            data={"device": browser_label(user_session.user_agent), "count": 1},
        )
        session_flows.end_sessions(request, [user_session])


def end_other_sessions(*, acting_user: User, request: HttpRequest) -> int:
    """End every session of the acting person but this one; returns how many (audited)."""
    current = request.session.session_key
    others = list(UserSession.objects.filter(user=acting_user).exclude(session_key=current))
    if not others:
        return 0
    with transaction.atomic():
        record_event(
            event_type=events.SESSION_ENDED,
            request=request,
            actor=acting_user,
            subject=acting_user,
            data={"scope": "others", "count": len(others)},
        )
        get_adapter().end_sessions(others)
    return len(others)


def end_user_sessions(*, acting_user: User, user: User, request: HttpRequest | None) -> int:
    """An administrator ends every session of ``user``; returns how many.

    Audited ``session.ended_by_admin`` even when there was none (the act was asked for).
    """
    with transaction.atomic():
        sessions = list(UserSession.objects.filter(user=user))
        record_event(
            event_type=events.SESSIONS_ENDED_BY_ADMIN,
            request=request,
            actor=acting_user,
            subject=user,
            data={"count": len(sessions)},
        )
        _end(sessions)
    return len(sessions)


def end_sessions_of_inactive_account(*, user: User, request: HttpRequest | None) -> int:
    """End every session of an account that just left the active state (audited if any).

    Called inside the transaction that changes the state; the authentication backend would
    refuse those sessions anyway, this removes them from sight and from the session store.
    """
    sessions = list(UserSession.objects.filter(user=user))
    if sessions:
        acting = request.user if request is not None and request.user.is_authenticated else None
        record_event(
            event_type=events.SESSION_ENDED,
            request=request,
            actor=acting,
            subject=user,
            data={"reason": "account_inactive", "count": len(sessions)},
        )
        _end(sessions)
    return len(sessions)


def _end(sessions: Sequence[UserSession]) -> None:
    # Not allauth's end_sessions flow: it would sign out the request's own session when it
    # is among them, which is the administrator's, never the person's being acted on.
    get_adapter().end_sessions(sessions)


def _signed_in_before(user: User) -> bool:
    """Whether the account had a successful sign-in before the one being recorded now."""
    sign_ins = (
        AuditEvent.objects.filter(subject=user)
        .of_type(accounts_events.LOGIN_SUCCEEDED)
        .values_list("pk", flat=True)[:2]
    )
    return len(sign_ins) >= 2


def alert_new_device(*, user: User, request: HttpRequest) -> bool:
    """At sign-in, tell the person by e-mail when the browser is not known for their account.

    "Known" means it holds the signed device cookie of this account (accounts/throttle.py),
    given at each successful sign-in. The very first sign-in of an account (after
    activation) raises no alert: there is no earlier device to compare with. Audited
    ``login.new_device``; the mail goes out after commit and a mail failure never blocks
    the sign-in. Returns whether an alert was raised.
    """
    cookie = request.COOKIES.get(throttle.device_cookie_name())
    if throttle.device_is_trusted_for(cookie, user.pk) or not _signed_in_before(user):
        return False
    device = browser_label(user_agent(request))
    place = approximate_place(client_ip(request))
    record_event(
        event_type=events.NEW_DEVICE,
        request=request,
        actor=user,
        subject=user,
        data={"device": device, "place": place},
    )
    base = links.base_url(request)
    context = {
        "user": user,
        "device": device,
        "place": place,
        "when": timezone.now(),
        # Links to the official host, never to whatever host the sign-in came through.
        "devices_url": f"{base}{reverse('devices:list')}",
        "password_url": f"{base}{reverse('account_change_password')}",
    }
    address = contact_address(user)
    transaction.on_commit(lambda: mail.send([address], "devices/mail/new_device", context))
    return True
