"""OpenID Connect clients of the demo académie, declared the way an administrator does it:
an ``oidc:`` block on a service of the catalogue, or a ``server_clients:`` entry."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client

from convergence.core.blueprints import apply
from tests.conftest import demo_blueprint
from tests.helpers import pass_second_factor

ARENA_SECRET = "arena-secret-de-demonstration-assez-long"
QUIZ_SECRET = "quiz-secret-de-demonstration-assez-long"
MAIL_SECRET = "messagerie-secret-de-demonstration-long"


@dataclass(frozen=True)
class RelyingParty:
    """What a relying party knows about itself."""

    client_id: str
    client_secret: str
    redirect_uri: str
    post_logout_redirect_uri: str = ""
    scopes: tuple[str, ...] = field(default=("openid",))


ARENA = RelyingParty(
    client_id="arena",
    client_secret=ARENA_SECRET,
    redirect_uri="http://arena.test:8001/oidc/callback",
    post_logout_redirect_uri="http://arena.test:8001/au-revoir",
)
QUIZ = RelyingParty(
    client_id="quiz",
    client_secret=QUIZ_SECRET,
    redirect_uri="https://quiz.exemple.com/cb",
    post_logout_redirect_uri="https://quiz.exemple.com/",
)
MAIL = RelyingParty(client_id="messagerie", client_secret=MAIL_SECRET, redirect_uri="")


def _demo_service(slug: str) -> dict[str, Any]:
    services: list[dict[str, Any]] = demo_blueprint()["services"]
    return dict(next(item for item in services if item["slug"] == slug))


@pytest.fixture
def arena(demo: None) -> RelyingParty:
    """Arena, the staff intranet: a first-party OIDC client, audience staff roles only."""
    service = _demo_service("arena")
    service["oidc"] = {
        "client_id": ARENA.client_id,
        "client_secret": ARENA.client_secret,
        "redirect_uris": [ARENA.redirect_uri],
        "post_logout_redirect_uris": [ARENA.post_logout_redirect_uri],
        "first_party": True,
    }
    apply({"services": [service]})
    return ARENA


@pytest.fixture
def quiz(demo: None) -> RelyingParty:
    """A publisher's quiz open to everyone: third party, so consent is asked."""
    apply(
        {
            "services": [
                {
                    "slug": "quiz-exterieur",
                    "name": "Quiz extérieur",
                    "description": "Un service d'un éditeur.",
                    "url": "https://quiz.exemple.com/",
                    "category": "pedagogie",
                    "audience": "everyone",
                    "external": True,
                    "oidc": {
                        "client_id": QUIZ.client_id,
                        "client_secret": QUIZ.client_secret,
                        "redirect_uris": [QUIZ.redirect_uri],
                        "post_logout_redirect_uris": [QUIZ.post_logout_redirect_uri],
                    },
                }
            ]
        }
    )
    return QUIZ


@pytest.fixture
def mail_server(demo: None) -> RelyingParty:
    """The académie's mail server: introspects tokens, client credentials only."""
    apply(
        {
            "server_clients": [
                {
                    "client_id": MAIL.client_id,
                    "name": "Serveur de messagerie",
                    "client_secret": MAIL.client_secret,
                }
            ]
        }
    )
    return MAIL


# --- a small hand-driven relying party for the Django test client --------------------------


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def basic_auth(rp: RelyingParty) -> str:
    raw = f"{rp.client_id}:{rp.client_secret}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def signed_in(user: Any) -> Client:
    client = Client()
    response = client.post("/connexion/", {"login": user.login, "password": user.demo_password})
    assert response.status_code == 302, "the demo person could not sign in"
    # Privileged demo people give their "codes changeants" next (accounts/mfa_policy.py).
    pass_second_factor(client, user)
    return client


def authorize_url(rp: RelyingParty, *, challenge: str | None, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": rp.client_id,
        "redirect_uri": rp.redirect_uri,
        "scope": " ".join(rp.scopes),
        "state": "etat-123",
        "nonce": "nonce-456",
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    params |= extra
    return "/oidc/authorize/?" + urlencode(params)


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def obtain_code(client: Client, rp: RelyingParty, **extra: str) -> tuple[str, str]:
    """Run the authorization request; returns (code, verifier)."""
    verifier, challenge = pkce_pair()
    response = client.get(authorize_url(rp, challenge=challenge, **extra))
    assert response.status_code == 302, response.content[:500]
    location = response["Location"]
    assert location.startswith(rp.redirect_uri), location
    return query_of(location)["code"], verifier


def redeem(client: Client, rp: RelyingParty, code: str, verifier: str | None) -> Any:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    return client.post("/oidc/token/", data, HTTP_AUTHORIZATION=basic_auth(rp))


def refresh(client: Client, rp: RelyingParty, refresh_token: str) -> Any:
    return client.post(
        "/oidc/token/",
        {"grant_type": "refresh_token", "refresh_token": refresh_token},
        HTTP_AUTHORIZATION=basic_auth(rp),
    )


def introspect(client: Client, server: RelyingParty, token: str) -> dict[str, Any]:
    grant = client.post(
        "/oidc/token/",
        {"grant_type": "client_credentials", "scope": "introspection"},
        HTTP_AUTHORIZATION=basic_auth(server),
    )
    assert grant.status_code == 200, grant.content
    bearer = grant.json()["access_token"]
    response = client.post(
        "/oidc/introspect/", {"token": token}, HTTP_AUTHORIZATION=f"Bearer {bearer}"
    )
    assert response.status_code == 200, response.content
    answer: dict[str, Any] = response.json()
    return answer
