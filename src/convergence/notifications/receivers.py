"""Devices follow the account: when its sessions end (a password reset or change, an
account no longer active) or a browser signs out, the devices that received its pushes stop
receiving them, so a taken-back account does not keep ringing on the taker's browser.
Connected in ``NotificationsConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from convergence.accounts.models import User
from convergence.notifications import push_actions


def _endpoint_of(request: HttpRequest | None) -> str:
    """The endpoint this browser subscribed during its session, if any."""
    session = getattr(request, "session", None)
    if session is None:
        return ""
    return str(session.get(push_actions.SESSION_ENDPOINT, ""))


def forget_devices_after_password_reset(
    sender: Any, user: User, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """``accounts.signals.account_password_reset``: every session ends, every device goes.
    Returns nothing: the reset's receivers that end sessions answer how many."""
    push_actions.forget_devices(person=user, reason="password reset")


def forget_devices_of_inactive_account(
    sender: Any, user: User, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """``accounts.signals.account_deactivated``: suspended or archived, every device goes."""
    push_actions.forget_devices(person=user, reason="account no longer active")


def forget_other_devices_after_password_change(
    sender: Any, request: HttpRequest, user: Any, **kwargs: Any
) -> None:
    """allauth's ``password_changed``: the other sessions are no longer valid, so their
    devices go; the browser that changed it stays signed in and keeps its own."""
    if isinstance(user, User):
        push_actions.forget_devices(
            person=user, reason="password changed", keep_endpoint=_endpoint_of(request)
        )


def forget_device_at_sign_out(
    sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any
) -> None:
    """Django's ``user_logged_out`` (sent before the session is flushed): the browser
    signing out stops receiving the person's pushes."""
    endpoint = _endpoint_of(request)
    if endpoint and isinstance(user, User):
        push_actions.forget_signed_out_device(person=user, endpoint=endpoint)


def forget_devices_of_ended_sessions(
    sender: Any,
    user: User,
    request: HttpRequest | None = None,
    all_sessions: bool = True,
    **kwargs: Any,
) -> None:
    """``devices.signals.sessions_ended``: « Déconnecter les autres appareils » keeps this
    browser's device and forgets the others'; an administrator ending every session forgets
    them all."""
    keep = "" if all_sessions else _endpoint_of(request)
    push_actions.forget_devices(person=user, reason="sessions ended", keep_endpoint=keep)
