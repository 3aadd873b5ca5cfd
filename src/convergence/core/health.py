"""Health probes for load balancers and orchestrators, and the middleware that answers them.

* ``/sante/vivant`` (liveness): the process answers; touches neither the database nor the
  cache, so a database outage never gets healthy processes restarted.
* ``/sante/pret`` (readiness): the database answers ``SELECT 1`` and the default cache a write
  then a read, each within :data:`CHECK_SECONDS`; otherwise a 503 with ``Retry-After`` naming
  what failed, so the balancer sends no traffic here until it recovers.

:class:`HealthMiddleware` comes first in ``MIDDLEWARE`` and answers these two paths, and
``/metrics`` for an allowed scraper (``core.metrics``), before anything reads the session, the
account, the CSRF cookie or the database: they answer during maintenance, with the database
down, over plain HTTP and whatever the ``Host`` header.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from convergence.core import metrics

logger = logging.getLogger(__name__)

LIVE_PATH = "/sante/vivant"
READY_PATH = "/sante/pret"
METRICS_PATH = "/metrics"
# The readiness answer comes within this delay, however a dependency hangs.
CHECK_SECONDS = 1.0
RETRY_AFTER_SECONDS = 5

# Checks run in these threads so that the request can stop waiting for a hung dependency. A
# thread stuck on a dead server keeps its slot; once every slot is taken, readiness answers
# 503 at once rather than queueing checks behind the stuck ones.
_POOL_SIZE = 4
_pool = ThreadPoolExecutor(max_workers=_POOL_SIZE, thread_name_prefix="health")
_free = threading.BoundedSemaphore(_POOL_SIZE)


def _check_database() -> None:
    """``SELECT 1`` on this thread's connection, closed afterwards (the next check connects
    anew: readiness also proves that new connections are accepted)."""
    try:
        if connection.vendor == "postgresql":
            # The server gives up too, so a hung query does not hold a backend.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = '1s'")
                cursor.execute("SELECT 1")
                cursor.fetchone()
        else:
            # No transaction on SQLite: IMMEDIATE mode would take the write lock.
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
    finally:
        connection.close()


def _check_cache() -> None:
    """Write a random value to the default cache and read it back."""
    key = f"health:{os.getpid()}:{threading.get_ident()}"
    value = secrets.token_hex(8)
    cache.set(key, value, timeout=60)
    if cache.get(key) != value:
        raise RuntimeError("The cache did not return the value just written.")


def _checks() -> list[tuple[str, str, Callable[[], None]]]:
    """(name in logs, French name in the probe's answer, check), looked up at each call."""
    return [
        ("database", "base de données", _check_database),
        ("cache", "cache", _check_cache),
    ]


def _run(check: Callable[[], None], place: threading.BoundedSemaphore) -> None:
    try:
        check()
    finally:
        place.release()  # the place it was given (a hung check may finish much later)


def failed_checks() -> list[str]:
    """The French names of the dependencies that failed or did not answer in time."""
    deadline = time.monotonic() + CHECK_SECONDS
    running = []
    failed = []
    free = _free
    for name, label, check in _checks():
        if not free.acquire(blocking=False):
            logger.warning("Readiness: no free thread to check the %s (earlier checks hang).", name)
            failed.append(label)
            continue
        running.append((name, label, _pool.submit(_run, check, free)))
    for name, label, future in running:
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            logger.warning("Readiness: the %s did not answer within %.1f s.", name, CHECK_SECONDS)
            failed.append(label)
        except Exception:
            logger.warning("Readiness: the %s check failed.", name, exc_info=True)
            failed.append(label)
    return failed


def _plain(text: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def live(request: HttpRequest) -> HttpResponse:
    """200 "ok" while the process answers."""
    return _plain("ok\n")


# A readiness answer is reused this long by the process: probes sent by anyone, as often as
# they like, cost the database and the cache one check a second per process, and never fill
# the check threads (which would make every probe answer 503 and pull healthy processes).
READY_MEMO_SECONDS = 1.0
_memo: tuple[float, list[str]] | None = None
_memo_lock = threading.Lock()


def recent_failed_checks() -> list[str]:
    """:func:`failed_checks`, run at most once per :data:`READY_MEMO_SECONDS` per process.

    While one caller runs the checks, the others get the previous answer at once rather than
    wait for it (a flood of probes holds no thread); only the very first probes of a process,
    with no answer yet, wait for the running check (at most its deadline).
    """
    global _memo
    memo = _memo
    if memo is not None and time.monotonic() - memo[0] < READY_MEMO_SECONDS:
        return memo[1]
    if not _memo_lock.acquire(blocking=memo is None):
        assert memo is not None
        return memo[1]
    try:
        memo = _memo
        if memo is not None and time.monotonic() - memo[0] < READY_MEMO_SECONDS:
            return memo[1]  # refreshed by the caller this one waited for
        failed = failed_checks()
        _memo = (time.monotonic(), failed)
        return failed
    finally:
        _memo_lock.release()


def forget_recent_checks() -> None:
    """Drop the remembered answer (tests that change a dependency between two probes)."""
    global _memo
    with _memo_lock:
        _memo = None


@require_safe
def ready(request: HttpRequest) -> HttpResponse:
    """200 when the database and the cache answer in time; else 503 naming what failed."""
    failed = recent_failed_checks()
    if not failed:
        return _plain("ok\n")
    response = _plain("".join(f"{label} : indisponible\n" for label in failed), status=503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class HealthMiddleware:
    """First in ``MIDDLEWARE``: answers the probes, and ``/metrics`` to allowed scrapers.

    A request for ``/metrics`` from anyone else goes on through the stack like any other, to
    the portal's usual 404.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path == LIVE_PATH:
            return live(request)
        if path == READY_PATH:
            return ready(request)
        if path == METRICS_PATH and metrics.may_read_metrics(request):
            return metrics.metrics_view(request)
        return self.get_response(request)
