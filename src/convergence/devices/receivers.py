"""Sessions follow the account: the new-device alert at sign-in, every session ended when
the account stops being active. Connected in ``DevicesConfig.ready``."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponseBase

from convergence.accounts import throttle
from convergence.accounts.models import User
from convergence.devices import actions as devices

logger = logging.getLogger(__name__)


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
