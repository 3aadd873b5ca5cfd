"""What the mail app does when an account changes: a suspended or archived account, or a
password reset (often after a theft), loses its app passwords and its webmail connections."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.http import HttpRequest

from convergence.accounts.models import User
from convergence.accounts.signals import account_deactivated, account_password_reset
from convergence.mail import actions, connections


def _deactivated(sender: Any, user: User, request: HttpRequest | None = None, **kw: Any) -> None:
    # Also closes their open IMAP sessions and this process's webmail connections.
    actions.revoke_all_app_passwords(user=user, reason="account_deactivated", request=request)


def _password_reset(sender: Any, user: User, request: HttpRequest | None = None, **kw: Any) -> None:
    actions.revoke_all_app_passwords(user=user, reason="password_reset", request=request)


def _signed_out(sender: Any, request: HttpRequest, user: User | None = None, **kw: Any) -> None:
    if user is not None:
        connections.sign_out(user)


def connect() -> None:
    account_deactivated.connect(_deactivated, dispatch_uid="mail_account_deactivated")
    account_password_reset.connect(_password_reset, dispatch_uid="mail_password_reset")
    user_logged_out.connect(_signed_out, dispatch_uid="mail_signed_out")
