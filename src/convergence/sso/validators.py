"""Our seam in django-oauth-toolkit: claims, authentication context, code reuse, codes burned
by a failed PKCE check and the refresh family's absolute lifetime. Everything cryptographic
stays the toolkit's (and oauthlib's)."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db.models import Min
from django.utils import timezone
from oauth2_provider.models import Grant, RefreshToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256

from convergence.sso import actions
from convergence.sso.claims import CLAIM_SCOPES, person_claims
from convergence.sso.models import Acr, IssuedCode, digest

# Claims that describe the sign-in, not the person: ID token only, never userinfo.
SIGN_IN_CLAIMS = ("acr", "amr", "sid", "auth_time")
# RFC 8176 authentication method references, from the authentication context.
AMR_OF_ACR = {Acr.PASSWORD.value: ["pwd"], Acr.MFA.value: ["mfa"]}
PERSON_SCOPES = frozenset({"openid", "profile", "email", "establishments"})
SERVER_SCOPES = frozenset({"introspection"})


class ConvergenceValidator(OAuth2Validator):
    oidc_claim_scope = CLAIM_SCOPES

    # --- authorization request ----------------------------------------------------------
    def validate_response_type(
        self,
        client_id: str,
        response_type: str,
        client: Any,
        request: Request,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        # Code flow only: no implicit, no hybrid.
        return response_type == "code" and super().validate_response_type(
            client_id, response_type, client, request, *args, **kwargs
        )

    def validate_redirect_uri(
        self,
        client_id: str,
        redirect_uri: str,
        request: Request,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        # Simple string comparison (RFC 9700 §4.1.3): the toolkit compares hostnames after
        # lowercasing them, and would accept "https://ARENA.example/cb" for "https://arena...".
        registered = request.client.redirect_uris.split()
        return redirect_uri in registered and super().validate_redirect_uri(
            client_id, redirect_uri, request, *args, **kwargs
        )

    def get_default_redirect_uri(
        self, client_id: str, request: Request, *args: Any, **kwargs: Any
    ) -> str | None:
        # OpenID Connect requires redirect_uri (Core 3.1.2.1): never guess it.
        return None

    def validate_silent_login(self, request: Request) -> bool:
        # prompt=none: AuthorizeView answers login_required itself, from the portal session
        # (oauthlib's request does not carry it).
        return True

    def validate_silent_authorization(self, request: Request) -> bool:
        # prompt=none: AuthorizeView answers consent_required and access_denied itself.
        return True

    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: Any,
        request: Request,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        # Servers get server scopes; people's services get people's scopes.
        allowed = SERVER_SCOPES if request.grant_type == "client_credentials" else PERSON_SCOPES
        return set(scopes) <= allowed and super().validate_scopes(
            client_id, scopes, client, request, *args, **kwargs
        )

    def save_authorization_code(
        self, client_id: str, code: dict[str, str], request: Request, *args: Any, **kwargs: Any
    ) -> None:
        super().save_authorization_code(client_id, code, request, *args, **kwargs)
        actions.record_issued_code(
            code=code["code"],
            application=request.client,
            user=request.user,
            sso_session=getattr(request, "sso_session", None),
        )

    # --- token request ------------------------------------------------------------------
    def validate_code(
        self, client_id: str, code: str, client: Any, request: Request, *args: Any, **kwargs: Any
    ) -> bool:
        issued = (
            IssuedCode.objects.select_related("sso_session")
            .filter(code_digest=digest(code), application=client)
            .first()
        )
        if issued is not None and issued.redeemed_at is not None:
            actions.revoke_reused_code(issued)
            return False
        if not super().validate_code(client_id, code, client, request, *args, **kwargs):
            return False
        failure = self._pkce_failure(code, client, request)
        if failure is not None:
            # A code is single-use even when its redemption fails (like a CAS ticket): a
            # wrong verifier must not leave the code for another guess, nor for the thief's
            # next try with the right one.
            actions.burn_code(issued, code=code, application=client)
            raise failure
        request.convergence_code = issued
        return issued is not None

    def _pkce_failure(self, code: str, client: Any, request: Request) -> errors.OAuth2Error | None:
        """The error oauthlib would answer for this token request's PKCE check, if it fails.

        Checked here, with oauthlib's own S256 comparison, because oauthlib checks PKCE after
        ``validate_code`` and tells the validator nothing of the outcome."""
        grant = Grant.objects.filter(code=code, application=client).first()
        challenge = grant.code_challenge if grant is not None else ""
        method = grant.code_challenge_method if grant is not None else ""
        verifier = request.code_verifier
        if verifier is None:
            return errors.MissingCodeVerifierError(request=request)
        if not challenge:
            return errors.InvalidGrantError(request=request, description="Challenge not found")
        if method != "S256" or not code_challenge_method_s256(verifier, challenge):
            return errors.InvalidGrantError(request=request)
        return None

    def _save_bearer_token(
        self, token: dict[str, Any], request: Request, *args: Any, **kwargs: Any
    ) -> None:
        super()._save_bearer_token(token, request, *args, **kwargs)
        issued = getattr(request, "convergence_code", None)
        if issued is not None and request.grant_type == "authorization_code":
            actions.record_code_tokens(issued, access_token=token["access_token"])

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Request, *args: Any, **kwargs: Any
    ) -> bool:
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        family = request.refresh_token_instance.token_family
        if family is None:
            return False
        # The family's first token fixes the absolute lifetime, however often it rotated.
        born = RefreshToken.objects.filter(token_family=family).aggregate(first=Min("created"))[
            "first"
        ]
        limit = datetime.timedelta(seconds=settings.OIDC_REFRESH_ABSOLUTE_SECONDS)
        return born is not None and born + limit > timezone.now()

    def refresh_id_token(self, request: Request) -> bool:
        # ID tokens describe a sign-in; a refresh is not one.
        return False

    # --- claims ---------------------------------------------------------------------------
    def get_additional_claims(self, request: Request) -> dict[str, Any]:
        return person_claims(request.user)

    def get_discovery_claims(self, request: Request) -> list[str]:
        return sorted({*CLAIM_SCOPES, *SIGN_IN_CLAIMS})

    def get_id_token_dictionary(
        self, token: dict[str, Any], token_handler: Any, request: Request
    ) -> tuple[dict[str, Any], datetime.datetime]:
        claims, expiration = super().get_id_token_dictionary(token, token_handler, request)
        issued: IssuedCode | None = getattr(request, "convergence_code", None)
        if issued is not None:
            claims["auth_time"] = int(issued.auth_time.timestamp())
            claims["acr"] = issued.acr
            claims["amr"] = list(AMR_OF_ACR.get(issued.acr, ["pwd"]))
            if issued.sso_session_id:
                claims["sid"] = str(issued.sso_session_id)
        return claims, expiration

    def get_userinfo_claims(self, request: Request) -> dict[str, Any]:
        claims = super().get_userinfo_claims(request)
        for name in SIGN_IN_CLAIMS:
            claims.pop(name, None)
        return dict(claims)
