"""Each service's client is limited in requests a minute and recipients an hour, each
address in refused tokens a minute: a 429 with Retry-After, and a 503 (fail closed) when the
limiter's cache is down."""

from __future__ import annotations

from typing import Any

import pytest

from convergence.core import ratelimit
from tests.api.conftest import payload, post


def test_requests_past_the_minute_limit_get_429_with_retry_after(
    settings: Any, teacher: Any, arena_token: str
) -> None:
    settings.API_REQUESTS_PER_MINUTE = 3
    for _number in range(3):
        assert post(arena_token, payload(teacher.login)).status_code == 202

    response = post(arena_token, payload(teacher.login))

    assert response.status_code == 429
    assert response.json()["code"] == "trop_de_requetes"
    assert 0 < int(response["Retry-After"]) <= 60
    assert teacher.notifications.count() == 3


def test_bad_requests_count_too(settings: Any, teacher: Any, arena_token: str) -> None:
    settings.API_REQUESTS_PER_MINUTE = 2
    post(arena_token, {"nimporte": "quoi"})
    post(arena_token, {"nimporte": "quoi"})

    assert post(arena_token, payload(teacher.login)).status_code == 429


def test_recipients_past_the_hour_limit_get_429_and_notify_no_one(
    settings: Any, teacher: Any, head_of_school: Any, arena_token: str
) -> None:
    settings.API_RECIPIENTS_PER_HOUR = 3
    assert post(arena_token, payload(teacher.login, "a", "b")).status_code == 202

    response = post(arena_token, payload(head_of_school.login, "c"), key="au-dela")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 60
    assert not head_of_school.notifications.exists()
    # Nothing kept under the key: once the hour has passed, the same call may be made.
    from convergence.api.models import IdempotentRequest

    assert not IdempotentRequest.objects.filter(key="au-dela").exists()


def test_limiter_down_is_503_fail_closed(
    teacher: Any, arena_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: Any, **kwargs: Any) -> int:
        raise ratelimit.LimiterUnavailable("cache unreachable")

    monkeypatch.setattr(ratelimit, "hit", down)

    response = post(arena_token, payload(teacher.login))

    assert response.status_code == 503
    assert response.json()["code"] == "service_indisponible"
    assert response["Retry-After"]
    assert not teacher.notifications.exists()


# --- refused tokens, per address ------------------------------------------------------------

GUESSER = "203.0.113.9"
SERVICE_HOST = "198.51.100.7"


def test_bad_tokens_past_the_limit_get_429_in_french_with_retry_after(
    settings: Any, teacher: Any
) -> None:
    settings.API_BAD_TOKENS_PER_MINUTE = 3
    for number in range(3):
        response = post(f"devine-{number}", payload(teacher.login), REMOTE_ADDR=GUESSER)
        assert response.status_code == 401

    response = post("devine-3", payload(teacher.login), REMOTE_ADDR=GUESSER)

    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "trop_de_requetes"
    assert body["detail"].startswith("Au plus 3 jetons refusés par minute")
    assert 0 < int(response["Retry-After"]) <= 60


def test_past_the_limit_a_guess_is_not_even_tried(
    settings: Any, teacher: Any, arena_token: str, django_assert_num_queries: Any
) -> None:
    settings.API_BAD_TOKENS_PER_MINUTE = 2
    for number in range(2):
        post(f"devine-{number}", payload(teacher.login), REMOTE_ADDR=GUESSER)

    # Even the right token: the guesser could not tell it from a wrong one.
    with django_assert_num_queries(0):
        response = post(arena_token, payload(teacher.login), REMOTE_ADDR=GUESSER)

    assert response.status_code == 429
    assert not teacher.notifications.exists()


def test_missing_tokens_count_too(settings: Any, teacher: Any) -> None:
    settings.API_BAD_TOKENS_PER_MINUTE = 1
    assert post(None, payload(teacher.login), REMOTE_ADDR=GUESSER).status_code == 401

    assert post(None, payload(teacher.login), REMOTE_ADDR=GUESSER).status_code == 429


def test_a_valid_token_is_not_slowed_by_failures_from_another_address(
    settings: Any, teacher: Any, arena_token: str
) -> None:
    settings.API_BAD_TOKENS_PER_MINUTE = 2
    for number in range(3):
        post(f"devine-{number}", payload(teacher.login), REMOTE_ADDR=GUESSER)

    response = post(arena_token, payload(teacher.login), REMOTE_ADDR=SERVICE_HOST)

    assert response.status_code == 202


def test_valid_calls_are_not_counted_as_failures(
    settings: Any, teacher: Any, arena_token: str
) -> None:
    settings.API_BAD_TOKENS_PER_MINUTE = 1
    for _number in range(3):
        assert (
            post(arena_token, payload(teacher.login), REMOTE_ADDR=SERVICE_HOST).status_code == 202
        )

    assert post("devine", payload(teacher.login), REMOTE_ADDR=SERVICE_HOST).status_code == 401


def test_behind_the_proxy_each_caller_is_counted_by_its_own_address(
    settings: Any, teacher: Any, arena_token: str
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    settings.API_BAD_TOKENS_PER_MINUTE = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    post("devine", payload(teacher.login), HTTP_X_FORWARDED_FOR=GUESSER, **proxy)
    assert (
        post("devine", payload(teacher.login), HTTP_X_FORWARDED_FOR=GUESSER, **proxy).status_code
        == 429
    )

    response = post(arena_token, payload(teacher.login), HTTP_X_FORWARDED_FOR=SERVICE_HOST, **proxy)

    assert response.status_code == 202


def test_limiter_down_before_the_token_is_read_is_503(
    teacher: Any, arena_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise ratelimit.LimiterUnavailable("cache unreachable")

    monkeypatch.setattr(ratelimit, "read", down)

    response = post(arena_token, payload(teacher.login))

    assert response.status_code == 503
    assert response.json()["code"] == "service_indisponible"
    assert not teacher.notifications.exists()
