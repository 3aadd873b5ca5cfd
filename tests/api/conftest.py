"""The demo's Arena as an API client: its OIDC client (``arena-demo``) holds the scopes
``notifications:annonces`` and ``notifications:services`` (blueprints/demo.yaml, ``api:``)."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from django.test import Client

from tests.conftest import demo_blueprint

ENDPOINT = "/api/v1/notifications/"


def _arena_oidc() -> dict[str, Any]:
    services: list[dict[str, Any]] = demo_blueprint()["services"]
    arena = next(item for item in services if item["slug"] == "arena")
    return dict(arena["oidc"])


ARENA_CLIENT_ID = _arena_oidc()["client_id"]
ARENA_SECRET = _arena_oidc()["client_secret"]


def basic(client_id: str = ARENA_CLIENT_ID, secret: str = ARENA_SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token_response(scope: str | None, **credentials: str) -> Any:
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    return Client().post("/oidc/token/", data, HTTP_AUTHORIZATION=basic(**credentials))


def service_token(scope: str | None = "notifications:annonces notifications:services") -> str:
    """An access token of the demo's Arena from the real token endpoint."""
    response = token_response(scope)
    assert response.status_code == 200, response.content
    value: str = response.json()["access_token"]
    return value


def post(
    token: str | None,
    payload: Any,
    *,
    key: str | None = None,
    content_type: str = "application/json",
    **extra: Any,
) -> Any:
    """POST ``payload`` (a dict, as JSON, or raw ``bytes``/``str``) to the endpoint, with a
    fresh Idempotency-Key unless ``key`` is given (``""``: none); ``extra``: WSGI environ
    (``REMOTE_ADDR``…)."""
    headers: dict[str, str] = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if key != "":
        headers["Idempotency-Key"] = key if key is not None else uuid.uuid4().hex
    return Client().post(ENDPOINT, payload, content_type=content_type, headers=headers, **extra)


def payload(*logins: str, **fields: Any) -> dict[str, Any]:
    return {
        "destinataires": list(logins),
        "categorie": "annonces",
        "titre": "Arena fermé samedi",
        "texte": "Maintenance annuelle.",
        **fields,
    }


@pytest.fixture
def arena_token(demo: None) -> str:
    return service_token()
