"""The one limiter: atomic counters in the shared cache that every limit of the portal uses.

Every operation is a single atomic cache call or starts with one (``add``, ``incr``, ``decr``),
so parallel requests — threads of one process on the local-memory cache, or several processes
on Redis — can never both slip under a limit: a request *reserves* its place first (increment)
and is judged by the value it got back, never by a value read earlier (reserve-then-verify).

* :func:`hit` — fixed-window counter: count one event, say how long to wait past the limit.
* :func:`reserve` / :func:`release` — take a place before expensive work (a password hash),
  give it back when the work turns out not to count (a success, or a refusal).
* :func:`first_time` — true once per window for a key (audit a flood once, alert once).
* :func:`count_distinct` — how many distinct members were seen under a key in a window (how
  many different accounts failed from one address), without storing the members in clear.

Keys are hashed (``key``) so that addresses, identifiers and digests never appear in clear in
the cache. When the cache is unreachable the limiter fails closed: :class:`LimiterUnavailable`
is raised and callers answer a 503 rather than let an unlimited attempt through.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django.core.cache import cache


class LimiterUnavailable(Exception):
    """The shared cache holding the counters cannot be reached: refuse rather than guess."""


def key(kind: str, *parts: object) -> str:
    """A cache key for ``kind`` whose parts (addresses, identifiers…) are hashed."""
    joined = "|".join(str(part).strip().lower() for part in parts)
    digest = hashlib.sha256(joined.encode()).hexdigest()[:32]
    return f"rl:{kind}:{digest}"


def _guard(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except ValueError:
        raise
    except Exception as error:  # the cache backend's own errors (Redis down, …)
        raise LimiterUnavailable(str(error)) from error


def reserve(counter: str, *, window: int, amount: int = 1) -> int:
    """Atomically add ``amount`` (one) to ``counter`` (created for ``window`` seconds); the
    new value."""
    _guard(cache.add, counter, 0, timeout=window)
    try:
        value = int(_guard(cache.incr, counter, amount))
    except ValueError:  # expired between add and incr
        _guard(cache.set, counter, amount, timeout=window)
        value = amount
    return value


def _redis() -> Any | None:
    """The Redis client behind the default cache, for one-round-trip batches; else None.

    Values stay readable by Django's cache API: its Redis serializer stores integers as they
    are. The primary (write) server answers reads too, so a batch never reads a stale replica.
    """
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    return backend


def reserve_many(counters: list[tuple[str, int]]) -> list[int]:
    """:func:`reserve` for several counters, in this order, in one round trip on Redis."""
    backend = _redis()
    if backend is None:
        return [reserve(counter, window=window) for counter, window in counters]
    try:
        client = backend._cache.get_client(write=True)
        pipe = client.pipeline(transaction=False)
        for counter, window in counters:
            name = backend.make_and_validate_key(counter)
            pipe.set(name, 0, ex=window, nx=True)
            pipe.incr(name)
        results = pipe.execute()
    except Exception as error:  # redis-py's errors: refuse rather than guess
        raise LimiterUnavailable(str(error)) from error
    return [int(value) for value in results[1::2]]


def release_many(counters: list[str]) -> None:
    """:func:`release` for several counters, in one round trip on Redis; never raises."""
    backend = _redis()
    if backend is None:
        for counter in counters:
            release(counter)
        return
    try:
        client = backend._cache.get_client(write=True)
        names = [backend.make_and_validate_key(counter) for counter in counters]
        pipe = client.pipeline(transaction=False)
        for name in names:
            pipe.decr(name)
        below = [name for name, value in zip(names, pipe.execute(), strict=True) if value < 0]
        for name in below:  # expired meanwhile: DECR made it -1; no debt, and it expires
            client.set(name, 0, ex=60)
    except Exception:  # noqa: S110 - unreachable: nothing left to give back
        pass


def touch_many(counters: list[str], *, window: int) -> None:
    """:func:`touch` for several counters, in one round trip on Redis."""
    backend = _redis()
    if backend is None:
        for counter in counters:
            touch(counter, window=window)
        return
    try:
        client = backend._cache.get_client(write=True)
        pipe = client.pipeline(transaction=False)
        for counter in counters:
            pipe.expire(backend.make_and_validate_key(counter), window)
        pipe.execute()
    except Exception as error:
        raise LimiterUnavailable(str(error)) from error


def release(counter: str) -> None:
    """Give back one place taken by :func:`reserve` (never below zero, never raises)."""
    try:
        if int(cache.decr(counter)) < 0:
            cache.incr(counter)
    except Exception:  # noqa: S110 - expired or unreachable: nothing left to give back
        pass


def touch(counter: str, *, window: int) -> None:
    """Keep ``counter`` alive for another ``window`` seconds (counters expire after quiet)."""
    _guard(cache.touch, counter, timeout=window)


def hit(counter: str, *, limit: int, window: int, now: float | None = None, amount: int = 1) -> int:
    """Count one event (or ``amount``: recipients of a message) on a fixed window of
    ``window`` seconds; seconds to wait, 0 if allowed.

    The event is counted whether or not it is allowed (it happened: a message asked for,
    a request made), so a flood keeps its own window full.
    """
    now = time.time() if now is None else now
    _guard(cache.add, f"{counter}:start", now, timeout=window)
    value = reserve(counter, window=window, amount=amount)
    if value <= limit:
        return 0
    start = float(_guard(cache.get, f"{counter}:start", now))
    return max(1, math.ceil(start + window - now))


def first_time(counter: str, *, window: int) -> bool:
    """True for the first call on ``counter`` within ``window`` seconds, then False."""
    return bool(_guard(cache.add, counter, 1, timeout=window))


def count_distinct(counter: str, member: object, *, window: int) -> tuple[int, bool]:
    """Note ``member`` under ``counter``; how many distinct members in the window, and whether
    this one is new. Members are stored as hashed marker keys that expire with the window."""
    marker = key(f"{counter}:member", member)
    if _guard(cache.add, marker, 1, timeout=window):
        return reserve(counter, window=window), True
    # Seen again: its marker lives as long as the counter does, or it would count twice.
    _guard(cache.touch, marker, timeout=window)
    return int(_guard(cache.get, counter, 0) or 0), False


def current(counter: str) -> int:
    """The value of ``counter`` now (0 when absent)."""
    return int(_guard(cache.get, counter, 0) or 0)


# Plain reads and writes of a limit's companions (time stamps, flags), failing closed too.


def read(keys: list[str]) -> dict[str, Any]:
    """The values of ``keys`` that exist, in one round trip."""
    found: dict[str, Any] = _guard(cache.get_many, keys)
    return found


def write(values: dict[str, Any], *, window: int) -> None:
    """Store ``values`` for ``window`` seconds, in one round trip."""
    _guard(cache.set_many, values, timeout=window)


def forget(keys: list[str]) -> None:
    """Delete ``keys`` (clearing a limit)."""
    _guard(cache.delete_many, keys)


# Cache backends whose ``add`` and ``incr`` are atomic across the requests that share them.
ATOMIC_BACKENDS = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.redis.RedisCache",
    "convergence.core.cache.RedisCache",
)


def check_atomic_cache(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """System check: the limits need a cache whose increments are atomic.

    Django's database and file caches implement ``incr`` as a read then a write, so two
    parallel attempts could both pass a limit: they are refused at start.
    """
    from django.conf import settings
    from django.core.checks import Error

    backend = settings.CACHES["default"]["BACKEND"]
    if backend in ATOMIC_BACKENDS:
        return []
    return [
        Error(
            f"The default cache ({backend}) has no atomic increment: rate limits need "
            "the local-memory cache (one process) or Redis.",
            id="core.E001",
        )
    ]
