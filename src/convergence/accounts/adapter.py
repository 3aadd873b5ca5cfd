"""django-allauth seam: our throttling, French messages, no self sign-up."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from convergence.core.http import client_ip

from . import throttle
from .models import User

UNIFORM_MISMATCH = _("Identifiant ou mot de passe incorrect.")


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    """Accounts are created by the académie (imports, administrators), never by sign-up."""

    error_messages = {
        **DefaultAccountAdapter.error_messages,
        # One message whatever was typed, so the answer tells nothing about the account.
        "username_password_mismatch": UNIFORM_MISMATCH,
        "email_password_mismatch": UNIFORM_MISMATCH,
        "account_inactive": _("Ce compte n'est pas actif."),
    }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        # One reading of the client address (behind TRUSTED_PROXY_COUNT proxies) for the
        # audit trail and allauth alike: "Mes appareils" shows the address allauth records.
        return client_ip(request)

    def _throttle_subject(self, request: HttpRequest, credentials: dict[str, Any]) -> str:
        identifier = str(credentials.get("username") or credentials.get("email") or "")
        identifier = identifier.strip().lower()
        user_pk = (
            User.objects.filter(Q(login=identifier) | Q(email=identifier))
            .values_list("pk", flat=True)
            .first()
        )
        request.convergence_user_pk = user_pk  # type: ignore[attr-defined]
        return throttle.account_key(identifier, user_pk)

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Refuse, before any password check, an attempt that comes before its delay."""
        from convergence.audit import events
        from convergence.audit.actions import record_event

        account = self._throttle_subject(request, credentials)
        user_pk: int | None = request.convergence_user_pk  # type: ignore[attr-defined]
        cookie = request.COOKIES.get(throttle.device_cookie_name())
        verdict = throttle.check(
            account,
            client_ip(request),
            trusted_device=throttle.device_is_trusted_for(cookie, user_pk),
        )
        if not verdict.allowed:
            request.convergence_retry_after = verdict.retry_after  # type: ignore[attr-defined]
            record_event(
                event_type=events.LOGIN_THROTTLED,
                request=request,
                subject=User(pk=user_pk) if user_pk else None,
                identifier=str(credentials.get("username") or credentials.get("email") or ""),
                data={"retry_after": verdict.retry_after},
            )
            raise self.validation_error("too_many_login_attempts_wait", verdict.retry_after)

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        account = self._throttle_subject(request, credentials)
        throttle.record_failure(account, client_ip(request))

    def validation_error(self, code: str, *args: Any) -> Any:
        from django.core.exceptions import ValidationError
        from django.utils.translation import ngettext

        if code == "too_many_login_attempts_wait":
            seconds = int(args[0])
            message = ngettext(
                "Trop de tentatives de connexion. Réessayez dans %(seconds)d seconde : "
                "votre compte n'est pas bloqué.",
                "Trop de tentatives de connexion. Réessayez dans %(seconds)d secondes : "
                "votre compte n'est pas bloqué.",
                seconds,
            ) % {"seconds": seconds}
            return ValidationError(message, code="throttled")
        return super().validation_error(code, *args)
