"""Sign-in, sign-out and password events written to the audit trail (one row each)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver
from django.http import HttpRequest

from convergence.accounts import events, throttle
from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.core.http import client_ip


@receiver(auth_signals.user_logged_in, dispatch_uid="audit_login")
def audit_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    record_event(event_type=events.LOGIN_SUCCEEDED, request=request, actor=user, subject=user)
    if request is not None:
        cookie = throttle.trusted_cookie(
            request.COOKIES.get(throttle.device_cookie_name()), user.pk
        )
        throttle.signed_in(throttle.account_key(user.login, user.pk), client_ip(request), cookie)


@receiver(auth_signals.user_login_failed, dispatch_uid="audit_login_failed")
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    identifier = str(credentials.get("username") or credentials.get("email") or "")
    user_pk = getattr(request, "convergence_user_pk", None) if request is not None else None
    record_event(
        event_type=events.LOGIN_FAILED,
        request=request,
        subject=User(pk=user_pk) if user_pk else None,
        identifier=identifier,
    )


@receiver(auth_signals.user_logged_out, dispatch_uid="audit_logout")
def audit_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record_event(event_type=events.LOGOUT, request=request, actor=user, subject=user)


def audit_password_changed(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    record_event(event_type=events.PASSWORD_CHANGED, request=request, actor=user, subject=user)
