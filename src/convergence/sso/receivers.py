"""Single sign-on follows the portal session: auth time at sign-in, SSO end at sign-out,
everything revoked when an account stops being active; no OIDC client is saved with an
ID token algorithm the portal cannot sign with; a saved client is read again."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import signals as auth_signals
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest
from oauth2_provider.models import Application

from convergence.accounts.models import User
from convergence.accounts.signals import account_deactivated, account_password_reset
from convergence.sso import actions, clients
from convergence.sso.actions.sessions import AUTH_TIME_KEY, SESSION_KEY
from convergence.sso.models import OidcClient, SsoEndReason
from convergence.sso.signing import refuse_unsupported_algorithm


@receiver(auth_signals.user_logged_in, dispatch_uid="sso_auth_time")
def remember_auth_time(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[AUTH_TIME_KEY] = now
        # Django's login() keeps the session data only for the same person: a stored SSO
        # session is theirs, signing in again (prompt=login, max_age, CAS renew) refreshes it.
        sid = request.session.get(SESSION_KEY)
        if sid and not actions.reauthenticated(sid, user, auth_time=now):
            request.session.pop(SESSION_KEY, None)


@receiver(auth_signals.user_logged_out, dispatch_uid="sso_single_logout")
def single_logout(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    if request is not None and user is not None and hasattr(request, "session"):
        actions.end_sso_session(request)


@receiver(account_deactivated, dispatch_uid="sso_account_deactivated")
def account_disabled(
    sender: Any, user: User, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    actions.end_user_sso(user, request=request)


@receiver(account_password_reset, dispatch_uid="sso_account_password_reset")
def password_reset(
    sender: Any, user: User, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """A reset often follows a suspected theft: the services' sessions, tokens and tickets
    end with the portal's (devices ends those)."""
    actions.end_user_sso(user, reason=SsoEndReason.PASSWORD_RESET, request=request)


@receiver(pre_save, sender=Application, dispatch_uid="sso_signing_algorithm")
def signing_algorithm(sender: Any, instance: Application, **kwargs: Any) -> None:
    # Whatever saves the client (admin, blueprint, shell): see sso/signing.py.
    refuse_unsupported_algorithm(instance)


@receiver(post_save, sender=Application, dispatch_uid="sso_client_saved")
@receiver(post_delete, sender=Application, dispatch_uid="sso_client_deleted")
@receiver(post_save, sender=OidcClient, dispatch_uid="sso_oidc_client_saved")
@receiver(post_delete, sender=OidcClient, dispatch_uid="sso_oidc_client_deleted")
def forget_clients(sender: Any, **kwargs: Any) -> None:
    # This process sees the change at once; the others within clients.CLIENT_CACHE_SECONDS.
    # Again at commit: another thread may have cached the old row in between.
    clients.forget()
    transaction.on_commit(clients.forget)
