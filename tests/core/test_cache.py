"""``core.cache.RedisCache``: Django's Redis cache reusing one client per pool."""

from __future__ import annotations

import os
import threading

import pytest
from django.core.cache import caches
from django.test import override_settings

from convergence.core.cache import RedisCache

REDIS_URL = os.environ.get("REDIS_URL", "")
pytestmark = pytest.mark.skipif(
    not REDIS_URL and not os.environ.get("CI"), reason="needs Redis (REDIS_URL)"
)


@pytest.fixture
def redis_cache():
    url = REDIS_URL or "redis://127.0.0.1:6379/1"
    with override_settings(
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "reusing": {
                "BACKEND": "convergence.core.cache.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": "test-core-cache",
            },
        }
    ):
        cache = caches["reusing"]
        yield cache
        # Only this test's keys: the Redis database may be another test worker's too.
        cache.delete_many([f"k{number}-{n}" for number in range(4) for n in range(50)])


def test_one_client_serves_every_call_and_every_thread(redis_cache):
    assert isinstance(redis_cache, RedisCache)
    first = redis_cache._cache.get_client(write=True)
    assert redis_cache._cache.get_client(write=True) is first
    seen: list[object] = []

    def work(number: int) -> None:
        for n in range(50):
            redis_cache.set(f"k{number}-{n}", n)
            assert redis_cache.get(f"k{number}-{n}") == n
        seen.append(redis_cache._cache.get_client(write=True))

    threads = [threading.Thread(target=work, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()
    assert all(client is first for client in seen)
    assert redis_cache.incr("k0-1") == 2
    assert redis_cache.add("k0-1", 5) is False
