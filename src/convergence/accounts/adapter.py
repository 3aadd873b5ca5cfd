"""django-allauth seam: our throttling, French messages, no self sign-up."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.auth_backends import AuthenticationBackend
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from convergence.accounts import events, throttle
from convergence.accounts.actions.throttle import alert_spraying
from convergence.accounts.backends import CANDIDATE_ATTRIBUTE, NO_CANDIDATE, find_candidate
from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.core.http import client_ip

UNIFORM_MISMATCH = _("Identifiant ou mot de passe incorrect.")
# allauth's reauthentication methods (by their ids), as the buttons under « Autres moyens ».
REAUTHENTICATION_LABELS = {
    "reauthenticate": _("Utiliser mon mot de passe"),
    "mfa_reauthenticate": _("Utiliser un code changeant ou un code de secours"),
    "mfa_reauthenticate:webauthn": _("Utiliser une clé d'accès"),
}


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

    def authenticate(self, request: HttpRequest, **credentials: Any) -> Any:
        """Judge the attempt (reserving its place), check the password once, end the attempt.

        Replaces allauth's ``pre_authenticate``/``authentication_failed`` pair, whose counter
        was read before the failure was recorded (a burst slipped past it).
        """
        from django.contrib.auth import authenticate

        identifier = str(credentials.get("username") or credentials.get("email") or "")
        candidate = find_candidate(identifier)
        user_pk = candidate.pk if candidate is not None else None
        request.convergence_user_pk = user_pk  # type: ignore[attr-defined]
        setattr(request, CANDIDATE_ATTRIBUTE, candidate if candidate is not None else NO_CANDIDATE)
        account = throttle.account_key(identifier, user_pk)
        ip = client_ip(request)
        cookie = throttle.trusted_cookie(
            request.COOKIES.get(throttle.device_cookie_name()), user_pk
        )
        password = str(credentials.get("password") or "")
        verdict, attempt = throttle.begin(
            throttle.PASSWORD, account=account, ip=ip, device_cookie=cookie, password=password
        )
        if attempt is None:
            self._refuse(request, verdict, user_pk=user_pk, identifier=identifier)
        assert attempt is not None
        try:
            AuthenticationBackend.unstash_authenticated_user()
            user = authenticate(request, **credentials)
            user = user or AuthenticationBackend.unstash_authenticated_user()
        except BaseException:
            attempt.release()
            raise
        if user:
            attempt.succeeded()
            return user
        detections = attempt.failed(password=password)
        if detections:
            alert_spraying(request=request, detections=detections)
        return None

    def _refuse(
        self,
        request: HttpRequest,
        verdict: throttle.Verdict,
        *,
        user_pk: int | None,
        identifier: str,
    ) -> None:
        # core.middleware.RetryAfterMiddleware makes the page a 429 with Retry-After.
        request.retry_after = verdict.retry_after  # type: ignore[attr-defined]
        request.convergence_throttle_reason = verdict.reason  # type: ignore[attr-defined]
        request.convergence_throttled_identifier = identifier  # type: ignore[attr-defined]
        record_event(
            event_type=events.LOGIN_THROTTLED,
            request=request,
            subject=User(pk=user_pk) if user_pk else None,
            identifier=identifier,
            data={"retry_after": verdict.retry_after, "reason": verdict.reason},
        )
        raise self.validation_error("too_many_login_attempts_wait", verdict.retry_after)

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

    def get_reauthentication_methods(self, user: Any) -> list[dict[str, Any]]:
        """allauth's ways to confirm one's identity, named in the portal's words (« codes
        changeants », « clé d'accès ») instead of allauth's « application
        d'authentification » and « clé de sécurité »."""
        methods: list[dict[str, Any]] = super().get_reauthentication_methods(user)
        for method in methods:
            method["description"] = REAUTHENTICATION_LABELS.get(method["id"], method["description"])
        return methods
