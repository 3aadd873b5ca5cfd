"""Sessions follow the account: the device recorded in the session and the new-device alert
at sign-in, every session ended when the account stops being active or its password is
reset. Connected in ``DevicesConfig.ready``."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponseBase

from convergence.accounts import throttle
from convergence.accounts.models import User
from convergence.devices import actions as devices
from convergence.devices.sessions.base import DEVICE_KEY, device_record

logger = logging.getLogger(__name__)


def remember_device(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """Django's ``user_logged_in`` (every sign-in, right after the session got its new key):
    the session carries its device, which its engine indexes when the response saves it."""
    session = getattr(request, "session", None)
    if session is not None:
        session[DEVICE_KEY] = device_record(request)


def alert_new_device(
    sender: Any,
    request: HttpRequest,
    user: Any,
    response: HttpResponseBase | None = None,
    **kwargs: Any,
) -> None:
    """allauth's ``user_logged_in``: sent for every completed sign-in (password, passkey,
    after a second factor), with the response that ends it."""
    if not isinstance(user, User):
        return
    try:
        with transaction.atomic():  # a failure rolls back the alert alone
            devices.alert_new_device(user=user, request=request)
    except Exception:  # the alert must never turn a successful sign-in into an error
        logger.exception("New-device check failed for account %s", user.pk)
    if response is not None:
        # The one place the device cookie is given: a sign-in may end on the password page,
        # the second-factor page or with a passkey; without it each would be a "new device".
        throttle.give_device_cookie(response, request=request, user_pk=user.pk)


def end_sessions_of_inactive_account(
    sender: Any, user: User, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """``accounts.signals.account_deactivated``: inside the state change's transaction."""
    devices.end_sessions_of_inactive_account(user=user, request=request)


def end_sessions_after_password_reset(
    sender: Any, user: User, request: HttpRequest | None = None, **kwargs: Any
) -> int:
    """``accounts.signals.account_password_reset``: inside the reset's transaction; returns
    how many sessions ended (the reset's audit row says it)."""
    return devices.end_sessions_after_password_reset(user=user, request=request)
