"""Our seam in django-oauth-toolkit: claims, authentication context, code reuse, codes burned
by a failed PKCE check, the refresh family's absolute lifetime, and clients read from the
per-process cache (``clients.py``). Everything cryptographic stays the toolkit's (and
oauthlib's). The refresh-token and client-credentials grants are answered before the toolkit
in the plain case (``grants.py``), with the same rules."""

from __future__ import annotations

import datetime
import json
from typing import Any

from oauth2_provider.models import AccessToken, Application, Grant, IDToken, RefreshToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256

from convergence.sso import actions, clients, tokens
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

    # --- clients --------------------------------------------------------------------------
    def _load_application(self, client_id: str, request: Request) -> Application | None:
        # The toolkit reads the client from the database at each call (twice per code
        # exchange); clients.py keeps it a few seconds per process.
        if oauth2_settings.CIMD_ENABLED:
            loaded: Application | None = super()._load_application(client_id, request)
            return loaded
        client = request.client
        if isinstance(client, Application) and client.client_id == client_id:
            return client
        client = clients.application(client_id)
        if client is None or not client.is_usable(request):
            request.client = None
            return None
        request.client = client
        return client

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
    # oauthlib asks the validator about the same authorization code up to seven times per
    # code exchange (scopes, client, redirect URI, PKCE challenge and method, nonce); the
    # toolkit reads the grant from the database each time. It is read once per request.
    def _grant(self, code: str, request: Request) -> Grant | None:
        grants: dict[str, Grant | None] | None = getattr(request, "convergence_grants", None)
        if grants is None:
            grants = request.convergence_grants = {}
        if code not in grants:
            grants[code] = Grant.objects.select_related("user").filter(code=code).first()
        return grants[code]

    def _client_grant(self, code: str, client: Any, request: Request) -> Grant | None:
        grant = self._grant(code, request)
        if grant is None or client is None or grant.application_id != client.pk:
            return None
        return grant

    def get_authorization_code_scopes(
        self, client_id: str, code: str, redirect_uri: str, request: Request
    ) -> list[str]:
        grant = self._grant(code, request)
        return grant.scope.split() if grant is not None and grant.scope else []

    def get_authorization_code_nonce(
        self, client_id: str, code: str, redirect_uri: str, request: Request
    ) -> str | None:
        grant = self._grant(code, request)
        return grant.nonce or None if grant is not None else None

    def confirm_redirect_uri(
        self,
        client_id: str,
        code: str,
        redirect_uri: str,
        client: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        request = kwargs.get("request") or (args[0] if args else None)
        grant = (
            self._client_grant(code, client, request)
            if request is not None
            else Grant.objects.filter(code=code, application=client).first()
        )
        return grant is not None and bool(grant.redirect_uri_allowed(redirect_uri))

    def get_code_challenge(self, code: str, request: Request) -> str | None:
        grant = self._client_grant(code, request.client, request)
        return (grant.code_challenge or None) if grant is not None else None

    def get_code_challenge_method(self, code: str, request: Request) -> str | None:
        grant = self._client_grant(code, request.client, request)
        return (grant.code_challenge_method or None) if grant is not None else None

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
        # The toolkit's check, on the grant read once for the whole request.
        grant = self._client_grant(code, client, request)
        if grant is None or grant.is_expired():
            return False
        request.scopes = grant.scope.split(" ")
        request.user = grant.user
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            request.claims = json.loads(grant.claims)
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
        grant = self._client_grant(code, client, request)
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
            created = getattr(request, "convergence_refresh_token", None)
            actions.record_code_tokens(
                issued,
                access_token=token["access_token"],
                token_family=created.token_family if created is not None else None,
            )

    def _save_id_token(
        self, jti: str, request: Request, expires: datetime.datetime, *args: Any, **kwargs: Any
    ) -> IDToken:
        id_token: IDToken = super()._save_id_token(jti, request, expires, *args, **kwargs)
        request.convergence_id_token = id_token
        return id_token

    def _create_access_token(
        self,
        expires: datetime.datetime,
        request: Request,
        token: dict[str, Any],
        source_refresh_token: RefreshToken | None = None,
    ) -> AccessToken:
        # The toolkit's, except that the ID token just saved is linked as it is: the toolkit
        # reads it back from the JWT (the client's row, the RS256 signature checked, the row).
        saved: IDToken | None = getattr(request, "convergence_id_token", None)
        if not token.get("id_token") or saved is None:
            created: AccessToken = super()._create_access_token(
                expires, request, token, source_refresh_token
            )
            return created
        access_token = AccessToken(
            user=request.user,
            scope=token["scope"],
            expires=expires,
            id_token=saved,
            application=request.client,
            source_refresh_token=source_refresh_token,
            resource=getattr(request, "resource", []),
        )
        self._set_token_value(access_token, token["access_token"])
        access_token.save()
        return access_token

    def _create_refresh_token(
        self,
        request: Request,
        refresh_token_code: str,
        access_token: AccessToken,
        previous_refresh_token: RefreshToken | None,
    ) -> RefreshToken:
        # The toolkit's, with a time-ordered id for a new family (its birth is read from the
        # id: sso/tokens.py), and the row kept on the request for record_code_tokens.
        refresh_token = RefreshToken(
            user=request.user,
            application=request.client,
            access_token=access_token,
            token_family=(
                previous_refresh_token.token_family
                if previous_refresh_token is not None
                else tokens.new_family()
            ),
            resource=getattr(request, "resource", []),
        )
        self._set_token_value(refresh_token, refresh_token_code)
        refresh_token.save()
        request.convergence_refresh_token = refresh_token
        return refresh_token

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Request, *args: Any, **kwargs: Any
    ) -> bool:
        presented = tokens.presented_refresh_token(refresh_token)
        if (
            presented is not None
            and presented.revoked is not None
            and oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION
            and not oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS
        ):
            # A replay: revoked and audited by the same action as on sso/grants.py's path
            # (the toolkit would revoke the family without a trace).
            actions.revoke_reused_refresh_token(presented, client_id=client.client_id)
            return False
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        # The family's first token fixes the absolute lifetime, however often it rotated;
        # an account that is no longer active gets nothing (as in sso/grants.py).
        instance = request.refresh_token_instance
        return not tokens.family_expired(instance.token_family) and instance.user.is_active

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
