"""The second-factor step of sign-in and reauthentication, throttled (settings.MFA_FORMS).

allauth's forms rely on its ``login_failed`` rate limit, which is switched off here because
the password step has its own throttle (accounts/throttle.py); without these forms wrong
codes after a right password would be unlimited. Each form judges the attempt with the
throttle's ``mfa`` scope before the code or passkey is checked (the place is reserved, so a
burst cannot slip past), and ends the attempt with the check's outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from allauth.core import context
from allauth.mfa.adapter import get_adapter
from allauth.mfa.base.forms import AuthenticateForm as AllauthAuthenticateForm
from allauth.mfa.base.forms import ReauthenticateForm as AllauthReauthenticateForm
from allauth.mfa.webauthn.forms import AuthenticateWebAuthnForm as AllauthAuthenticateWebAuthn
from allauth.mfa.webauthn.forms import LoginWebAuthnForm as AllauthLoginWebAuthnForm
from allauth.mfa.webauthn.forms import (
    ReauthenticateWebAuthnForm as AllauthReauthenticateWebAuthn,
)
from django import forms
from django.http import HttpRequest

from convergence.accounts import throttle
from convergence.accounts.actions.throttle import second_factor_failed, second_factor_refused
from convergence.core.http import client_ip

_Result = TypeVar("_Result")


def _judged(user: Any, check: Callable[[], _Result]) -> _Result:
    """Run ``check`` (allauth's verification) as one throttled second-factor attempt."""
    request: HttpRequest = context.request
    ip = client_ip(request)
    user_pk = getattr(user, "pk", None)
    # A passkey offered without an account (passwordless sign-in) is counted on its address.
    account = throttle.account_key("", user_pk) if user_pk is not None else f"passkey-address:{ip}"
    cookie = throttle.trusted_cookie(request.COOKIES.get(throttle.device_cookie_name()), user_pk)
    verdict, attempt = throttle.begin(
        throttle.SECOND_FACTOR, account=account, ip=ip, device_cookie=cookie
    )
    if attempt is None:
        raise second_factor_refused(request=request, user=user, verdict=verdict)
    try:
        result = check()
    except forms.ValidationError:
        attempt.failed()
        second_factor_failed(request=request, user=user, account=account)
        raise
    except BaseException:
        attempt.release()
        raise
    attempt.succeeded()
    return result


def _passkey_check(check: Callable[[], _Result]) -> Callable[[], _Result]:
    """allauth's passkey check, where a malformed credential is a wrong one, not a 500."""

    def run() -> _Result:
        try:
            return check()
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            raise get_adapter().validation_error("incorrect_code") from error

    return run


class AuthenticateForm(AllauthAuthenticateForm):  # type: ignore[misc]
    """TOTP or recovery code at sign-in."""

    def clean_code(self) -> str:
        code: str = _judged(self.user, super().clean_code)
        return code


class ReauthenticateForm(AllauthReauthenticateForm):  # type: ignore[misc]
    """TOTP or recovery code before a sensitive change."""

    def clean_code(self) -> str:
        code: str = _judged(self.user, super().clean_code)
        return code


class AuthenticateWebAuthnForm(AllauthAuthenticateWebAuthn):  # type: ignore[misc]
    """A passkey as second factor at sign-in."""

    def clean_credential(self) -> Any:
        return _judged(self.user, _passkey_check(super().clean_credential))


class ReauthenticateWebAuthnForm(AllauthReauthenticateWebAuthn):  # type: ignore[misc]
    """A passkey before a sensitive change."""

    def clean_credential(self) -> Any:
        return _judged(self.user, _passkey_check(super().clean_credential))


class LoginWebAuthnForm(AllauthLoginWebAuthnForm):  # type: ignore[misc]
    """Passwordless sign-in with a passkey: failures are counted on the address."""

    def clean_credential(self) -> Any:
        return _judged(None, _passkey_check(super().clean_credential))
