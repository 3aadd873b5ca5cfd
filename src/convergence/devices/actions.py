"""Sessions ("Mes appareils"): ending one, the others, or all of an account's; new-device alert.

Sessions are read and ended through the configured session engine (``devices.sessions``):
ending one deletes it from the session store, so its browser's next request is anonymous.
"""

from __future__ import annotations

from allauth.account.internal.flows import logout as logout_flow
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from convergence.accounts import events as accounts_events
from convergence.accounts import throttle
from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.audit.models import AuditEvent
from convergence.core import links
from convergence.core.http import client_ip, user_agent
from convergence.devices import events
from convergence.devices.labels import approximate_place, browser_label
from convergence.devices.sessions import SignedInSession, store
from convergence.devices.signals import sessions_ended
from convergence.devices.tasks import send_new_device_alert


def end_session(*, acting_user: User, session: SignedInSession, request: HttpRequest) -> None:
    """End one of the acting person's own sessions (audited ``session.ended``).

    The caller has checked that the session is theirs (``signed_in_sessions``). Ending the
    current session signs the person out here too.
    """
    with transaction.atomic():
        record_event(
            event_type=events.SESSION_ENDED,
            request=request,
            actor=acting_user,
            subject=acting_user,
            data={"device": browser_label(session.user_agent), "count": 1},
        )
        store().end_sessions([session])
    if session.current:
        logout_flow.logout(request)


def end_other_sessions(*, acting_user: User, request: HttpRequest) -> int:
    """End every session of the acting person but this one; returns how many (audited)."""
    current = request.session.session_key
    others = [s for s in store().sessions_of(acting_user) if s.key != current]
    # Even with no other session left, a browser signed out since may still hold a device.
    sessions_ended.send(sender=User, user=acting_user, request=request, all_sessions=False)
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
        store().end_sessions(others)
    return len(others)


def end_user_sessions(*, acting_user: User, user: User, request: HttpRequest | None) -> int:
    """An administrator ends every session of ``user``; returns how many.

    Audited ``session.ended_by_admin`` even when there was none (the act was asked for).
    Unlike ``end_session``, the request is not signed out here: it is the administrator's.
    """
    with transaction.atomic():
        sessions = store().sessions_of(user)
        record_event(
            event_type=events.SESSIONS_ENDED_BY_ADMIN,
            request=request,
            actor=acting_user,
            subject=user,
            data={"count": len(sessions)},
        )
        store().end_sessions(sessions)
    sessions_ended.send(sender=User, user=user, request=request, all_sessions=True)
    return len(sessions)


def end_sessions_of_inactive_account(*, user: User, request: HttpRequest | None) -> int:
    """End every session of an account that just left the active state (audited if any).

    Called inside the transaction that changes the state; the authentication backend would
    refuse those sessions anyway, this removes them from sight and from the session store.
    """
    sessions = store().sessions_of(user)
    if sessions:
        acting = request.user if request is not None and request.user.is_authenticated else None
        record_event(
            event_type=events.SESSION_ENDED,
            request=request,
            actor=acting,
            subject=user,
            data={"reason": "account_inactive", "count": len(sessions)},
        )
        store().end_sessions(sessions)
    return len(sessions)


def end_sessions_after_password_reset(*, user: User, request: HttpRequest | None) -> int:
    """End every session of an account whose password was just reset; returns how many.

    Called inside the reset's transaction, whose own audit row (``password.reset``,
    ``password.reset_by_referent``) records the count: no row of its own. Django would
    refuse those sessions anyway (the password's hash changed); this takes them out of
    "Mes appareils" and of the session store. The session of the request itself (a reset
    from a browser signed in to the account) is flushed through the request, so that the
    response does not save a session deleted under it.
    """
    sessions = store().sessions_of(user)
    own = request.session.session_key if request is not None else None
    others = [session for session in sessions if session.key != own]
    store().end_sessions(others)
    if request is not None and len(others) < len(sessions):
        request.session.flush()
    return len(sessions)


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
    # The message goes through the task worker: a mail server that is slow or down never
    # holds a sign-in (the task is queued in the sign-in's transaction).
    send_new_device_alert.enqueue(
        user_pk=user.pk,
        device=device,
        place=place,
        when=timezone.now().isoformat(),
        base_url=links.base_url(request),
    )
    return True
