"""The API against its own OpenAPI document: schemathesis generates requests from
/api/v1/openapi.json (valid ones, then invalid ones) and sends them in-process, with a valid
token of the demo's Arena; no answer is a 5xx and every answer conforms to the document
(status, content type, body), and no valid request is refused as invalid.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings

from tests.api.conftest import service_token


@pytest.fixture
def api_schema(demo: None, settings: Any) -> Iterator[Any]:
    # Many calls in a few seconds: the limits are not what is tested here.
    settings.API_REQUESTS_PER_MINUTE = 100_000
    settings.API_RECIPIENTS_PER_HOUR = 10_000_000
    settings.API_BAD_TOKENS_PER_MINUTE = 100_000
    # Before the signals are touched: Django's test client, which service_token() uses,
    # connects close_old_connections to request_started again after each request.
    token = service_token()
    # As Django's test client does: neither the start nor the end of a request may close the
    # test's connection (and with it the transaction holding the demo). Inside that
    # transaction autocommit is off, so request_started's close_old_connections closes a
    # PostgreSQL connection (an in-memory SQLite one ignores it): every later call answered
    # 503, "the connection is closed", seen under CI.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", WSGIHandler())
        yield schema, {"Authorization": f"Bearer {token}"}
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_openapi_document_is_public_and_describes_the_bearer_scheme(demo: None) -> None:
    response = Client().get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.json()
    schemes = document["components"]["securitySchemes"]
    assert [scheme["scheme"] for scheme in schemes.values()] == ["bearer"]
    assert "identifiants client" in next(iter(schemes.values()))["description"]
    operation = document["paths"]["/api/v1/notifications/"]["post"]
    assert "application/problem+json" in operation["responses"]["422"]["content"]
    assert (
        "securite"
        not in document["components"]["schemas"]["NotificationIn"]["properties"]["categorie"][
            "enum"
        ]
    )


def test_interactive_docs_are_not_served(demo: None) -> None:
    response = Client().get("/api/v1/docs")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.timeout(240)
@pytest.mark.parametrize(
    ("mode", "examples"),
    [(schemathesis.GenerationMode.POSITIVE, 50), (schemathesis.GenerationMode.NEGATIVE, 30)],
    ids=["valid-requests", "invalid-requests"],
)
def test_api_conforms_to_its_document(api_schema: Any, mode: Any, examples: int) -> None:
    schema, headers = api_schema
    operation = schema["/api/v1/notifications/"]["POST"]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def conforms(case: Any) -> None:
        case.call_and_validate(headers=headers)

    conforms()
