"""Demo "Arena": a staff intranet that signs people in with OpenID Connect against the portal.

A confidential client using the authorization code flow with PKCE (S256), driven by Authlib's
requests client. The ID token is verified with the portal's published keys (JWKS): signature,
issuer, audience, expiry and nonce. Logout both ways: "Se déconnecter" ends the local session
and sends the browser to the portal's end-session endpoint with ``id_token_hint``; the portal
ends sessions here by POSTing a signed logout token to ``/backchannel-logout``
(OpenID Connect Back-Channel Logout 1.0).

Keys are decoded with joserfc, the JOSE library Authlib now delegates to (``authlib.jose`` is
deprecated and warns at import).

    python -m demo.arena --port 8002 --portal http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import json
import logging
import secrets
import threading
import time
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749.errors import OAuth2Error
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from demo.web import (
    HTTP_TIMEOUT_SECONDS,
    DemoApp,
    Request,
    Response,
    SessionStore,
    TimeoutSession,
    as_list,
    check_csrf,
    logout_form,
    person_details,
    redirect,
    serve,
    signed_out_body,
)

logger = logging.getLogger(__name__)

COOKIE_NAME = "demo_arena_session"
DEFAULT_PORT = 8002
# The demo blueprint declares this client; never reuse the secret outside the demo.
DEFAULT_CLIENT_ID = "arena-demo"
DEFAULT_CLIENT_SECRET = "arena-demo-secret-a-ne-pas-utiliser-ailleurs"  # noqa: S105
SCOPE = "openid profile establishments"
ALGORITHMS = ["RS256"]
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
# Clock skew tolerated between the portal and this service.
LEEWAY_SECONDS = 30


class TokenRejected(Exception):
    """An ID token or logout token that this service must not accept."""


class ArenaApp(DemoApp):
    service_name = "Arena (démonstration)"

    def __init__(
        self,
        *,
        base_url: str,
        portal_url: str,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        timeout: float = HTTP_TIMEOUT_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.portal_url = portal_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout = timeout
        self.redirect_uri = f"{self.base_url}/oidc/callback"
        self.post_logout_redirect_uri = f"{self.base_url}/"
        self.sessions = SessionStore(COOKIE_NAME)
        self.http = TimeoutSession(timeout)
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self._seen_logout_tokens: dict[str, float] = {}

    # --- the portal's published configuration ------------------------------------------
    def metadata(self) -> dict[str, Any]:
        """The discovery document, fetched once (the portal may start after this service)."""
        with self._lock:
            if self._metadata is None:
                url = f"{self.portal_url}/oidc/.well-known/openid-configuration"
                response = self.http.get(url)
                response.raise_for_status()
                self._metadata = dict(response.json())
            return self._metadata

    def keys(self, *, refresh: bool = False) -> KeySet:
        """The portal's signing keys; fetched again when a token names an unknown key."""
        jwks_uri = self.metadata()["jwks_uri"]
        with self._lock:
            if self._keys is None or refresh:
                response = self.http.get(jwks_uri)
                response.raise_for_status()
                self._keys = KeySet.import_key_set(response.json())
            return self._keys

    def decode(self, token: str) -> jwt.Token:
        """Check the signature of a JWT from the portal (any of its published keys)."""
        try:
            try:
                return jwt.decode(token, self.keys(), algorithms=ALGORITHMS)
            except InvalidKeyIdError:
                # A rotated key: the portal publishes the new one before using it.
                return jwt.decode(token, self.keys(refresh=True), algorithms=ALGORITHMS)
        except (JoseError, ValueError) as error:
            raise TokenRejected(type(error).__name__) from error

    def verify_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        claims = self.decode(id_token).claims
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.metadata()["issuer"]},
            aud={"essential": True, "value": self.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            raise TokenRejected(type(error).__name__) from error
        audiences = as_list(claims.get("aud"))
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise TokenRejected("azp")
        return dict(claims)

    def verify_logout_token(self, logout_token: str) -> dict[str, Any]:
        """Back-Channel Logout 1.0, section 2.6: what a service checks before logging out."""
        claims = self.decode(logout_token).claims
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.metadata()["issuer"]},
            aud={"essential": True, "value": self.client_id},
            iat={"essential": True},
            exp={"essential": True},
            jti={"essential": True},
            events={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as error:
            raise TokenRejected(type(error).__name__) from error
        events = claims["events"]
        if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
            raise TokenRejected("events")
        if "nonce" in claims:
            raise TokenRejected("nonce")
        if not claims.get("sid") and not claims.get("sub"):
            raise TokenRejected("sid")
        with self._lock:
            now = time.time()
            for jti in [j for j, exp in self._seen_logout_tokens.items() if exp < now]:
                del self._seen_logout_tokens[jti]
            if claims["jti"] in self._seen_logout_tokens:
                raise TokenRejected("jti")
            self._seen_logout_tokens[claims["jti"]] = float(claims["exp"]) + LEEWAY_SECONDS
        return dict(claims)

    def client(self) -> OAuth2Session:
        return OAuth2Session(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=SCOPE,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            default_timeout=self.timeout,
        )

    def close(self) -> None:
        self.http.close()

    # --- pages -----------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        routes = {
            ("GET", "/"): self.home,
            ("GET", "/connexion"): self.login,
            ("GET", "/oidc/callback"): self.callback,
            ("POST", "/deconnexion"): self.logout,
            ("POST", "/backchannel-logout"): self.backchannel_logout,
        }
        view = routes.get((request.method, request.path))
        return view(request) if view is not None else self.not_found()

    def home(self, request: Request) -> Response:
        session = self.sessions.get(request)
        if session is None or "claims" not in session.data:
            return self.html("Accueil", signed_out_body())
        claims: dict[str, Any] = session.data["claims"]
        body = person_details(
            name=str(claims.get("name") or claims["sub"]),
            login=str(claims.get("preferred_username") or claims["sub"]),
            profiles=as_list(claims.get("profile")),
            uais=as_list(claims.get("establishments")),
        ) + logout_form(session.data["csrf"])
        return self.html("Accueil", body)

    def login(self, request: Request) -> Response:
        session = self.sessions.get(request)
        if session is not None and "claims" in session.data:
            return redirect("/")
        try:
            endpoint = self.metadata()["authorization_endpoint"]
        except (requests.RequestException, ValueError, KeyError):
            return self.error(HTTPStatus.BAD_GATEWAY, "Le portail ne répond pas.")
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(16)
        with self.client() as client:
            url, state = client.create_authorization_url(
                endpoint, code_verifier=verifier, nonce=nonce
            )
        if session is not None:
            self.sessions.delete(session)
        pending = self.sessions.create(state=state, nonce=nonce, verifier=verifier)
        return redirect(url, self.sessions.set_cookie(pending))

    def callback(self, request: Request) -> Response:
        pending = self.sessions.get(request)
        if pending is None or "state" not in pending.data:
            return self.error(HTTPStatus.BAD_REQUEST, "Cette connexion n'a pas été demandée ici.")
        # One try per authorization request, whatever happens next.
        self.sessions.delete(pending)
        data = pending.data
        if request.query.get("state") != data["state"]:
            return self.error(HTTPStatus.BAD_REQUEST, "Réponse du portail inattendue (état).")
        if "error" in request.query:
            if request.query["error"] == "access_denied":
                message = "Le portail ne vous ouvre pas ce service."
            else:
                message = "Le portail n'a pas accordé la connexion."
            return self.error(HTTPStatus.FORBIDDEN, message)
        try:
            metadata = self.metadata()
            # RFC 9207: the answer names its issuer, so it cannot come from another one.
            if request.query.get("iss", metadata["issuer"]) != metadata["issuer"]:
                return self.error(HTTPStatus.BAD_REQUEST, "Réponse d'un autre fournisseur.")
            with self.client() as client:
                token = client.fetch_token(
                    metadata["token_endpoint"],
                    authorization_response=request.url,
                    state=data["state"],
                    code_verifier=data["verifier"],
                )
            claims = self.verify_id_token(str(token["id_token"]), nonce=data["nonce"])
        except TokenRejected as error:
            logger.warning("ID token rejected: %s", error)
            return self.error(HTTPStatus.FORBIDDEN, "Le jeton d'identité n'est pas valide.")
        except (OAuth2Error, KeyError) as error:
            logger.warning("Token request refused: %s", error)
            return self.error(HTTPStatus.FORBIDDEN, "Le portail a refusé la connexion.")
        except (requests.RequestException, ValueError) as error:
            logger.warning("Portal unreachable: %s", type(error).__name__)
            return self.error(HTTPStatus.BAD_GATEWAY, "Le portail ne répond pas.")
        session = self.sessions.create(
            claims=claims,
            sid=claims.get("sid", ""),
            sub=claims["sub"],
            id_token=str(token["id_token"]),
            csrf=secrets.token_urlsafe(16),
        )
        return redirect("/", self.sessions.set_cookie(session))

    def logout(self, request: Request) -> Response:
        """End the local session, then ask the portal to end its own (RP-initiated logout)."""
        session = self.sessions.get(request)
        if session is None or not check_csrf(session, request):
            return redirect("/")
        self.sessions.delete(session)
        try:
            endpoint = self.metadata()["end_session_endpoint"]
        except (requests.RequestException, ValueError, KeyError):
            return redirect("/", self.sessions.clear_cookie())
        query = urlencode(
            {
                "id_token_hint": session.data["id_token"],
                "post_logout_redirect_uri": self.post_logout_redirect_uri,
                "client_id": self.client_id,
            }
        )
        return redirect(f"{endpoint}?{query}", self.sessions.clear_cookie())

    def backchannel_logout(self, request: Request) -> Response:
        token = request.form.get("logout_token", "")
        try:
            if not token:
                raise TokenRejected("missing")
            claims = self.verify_logout_token(token)
        except TokenRejected as error:
            logger.warning("Logout token rejected: %s", error)
            return self.json_error("invalid_request")
        except (requests.RequestException, ValueError) as error:
            logger.warning("Portal keys unavailable: %s", type(error).__name__)
            return self.json_error("temporarily_unavailable", HTTPStatus.SERVICE_UNAVAILABLE)
        if claims.get("sid"):
            ended = self.sessions.delete_where("sid", claims["sid"])
        else:
            ended = self.sessions.delete_where("sub", claims["sub"])
        logger.info("Back-channel logout: %d session(s) ended", ended)
        return Response(HTTPStatus.OK, b"", content_type="text/plain")

    def json_error(self, error: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> Response:
        body = json.dumps({"error": error}).encode()
        return Response(status, body, content_type="application/json")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Arena de démonstration (OpenID Connect).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--portal", default="http://127.0.0.1:8000")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--timeout", type=float, default=HTTP_TIMEOUT_SECONDS)
    args = parser.parse_args(argv)
    app = ArenaApp(
        base_url=f"http://{args.host}:{args.port}",
        portal_url=args.portal,
        client_id=args.client_id,
        client_secret=args.client_secret,
        timeout=args.timeout,
    )
    serve(app, args.host, args.port)


if __name__ == "__main__":
    main()
