"""Each service's client is limited in requests a minute and recipients an hour: a 429
with Retry-After, and a 503 (fail closed) when the limiter's cache is down."""

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
