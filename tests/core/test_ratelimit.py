"""The one limiter: atomic counters, failing closed, on a cache whose increments are atomic."""

from __future__ import annotations

import pytest

from convergence.core import ratelimit


def test_hit_counts_past_the_limit_and_says_how_long_to_wait():
    counter = ratelimit.key("test-hit", "198.51.100.7")
    waits = [ratelimit.hit(counter, limit=3, window=60, now=1000.0) for _ in range(5)]
    assert waits[:3] == [0, 0, 0]
    assert all(1 <= wait <= 60 for wait in waits[3:])


def test_release_gives_a_place_back_and_never_goes_below_zero():
    counter = ratelimit.key("test-release")
    assert ratelimit.reserve(counter, window=60) == 1
    ratelimit.release(counter)
    ratelimit.release(counter)
    assert ratelimit.current(counter) == 0
    assert ratelimit.reserve(counter, window=60) == 1


def test_count_distinct_counts_each_member_once():
    counter = ratelimit.key("test-distinct")
    results = [ratelimit.count_distinct(counter, member, window=60) for member in "abca"]
    assert results == [(1, True), (2, True), (3, True), (3, False)]


def test_first_time_is_true_once_per_window():
    counter = ratelimit.key("test-first")
    assert ratelimit.first_time(counter, window=60)
    assert not ratelimit.first_time(counter, window=60)


def test_keys_never_hold_what_they_count_in_clear():
    counter = ratelimit.key("sign-in", "user:42", "198.51.100.7")
    assert "198.51.100.7" not in counter
    assert "user:42" not in counter


UNREACHABLE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 1},
    }
}


def test_an_unreachable_cache_fails_closed(settings):
    settings.CACHES = UNREACHABLE
    with pytest.raises(ratelimit.LimiterUnavailable):
        ratelimit.reserve(ratelimit.key("test-down"), window=60)


@pytest.mark.parametrize(
    ("backend", "refused"),
    [
        ("django.core.cache.backends.locmem.LocMemCache", False),
        ("django.core.cache.backends.redis.RedisCache", False),
        ("django.core.cache.backends.db.DatabaseCache", True),
        ("django.core.cache.backends.filebased.FileBasedCache", True),
    ],
)
def test_a_cache_without_atomic_increments_is_refused_at_start(settings, backend, refused):
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": "x"}}
    errors = ratelimit.check_atomic_cache()
    assert bool(errors) is refused
    assert all(error.id == "core.E001" for error in errors)


def test_sign_in_with_the_cache_down_is_a_503_and_checks_no_password(pupil, settings):
    from django.test import Client

    settings.CACHES = UNREACHABLE
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    response = Client().post("/connexion/", {"login": pupil.login, "password": pupil.demo_password})
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "CONV-503" in response.content.decode()
