"""Fixtures shared by every test: the demo académie's named people, a clean cache.

Tests hash passwords with Argon2id at a small memory cost so the suite stays fast; the
production cost is measured in bench/ and documented in docs/security.md.
"""

from __future__ import annotations

import os
import socketserver
import sqlite3
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import closing
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

DEMO_BLUEPRINT = Path(__file__).resolve().parent.parent / "blueprints" / "demo.yaml"

# How long threads of a test may take, from their start to the last join: far more than any
# needs, far less than the suite's timeout, so a stuck thread fails its own test clearly.
THREAD_SECONDS = 30

T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    settings.ARGON2_MEMORY_KIB = 1024
    settings.ARGON2_TIME_COST = 1
    # WhiteNoise would otherwise index every static file for each test client.
    settings.WHITENOISE_AUTOREFRESH = True
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith("RedisCache"):
        # One Redis database per xdist worker, so clearing the cache between tests is local.
        # TEST_REDIS_DB_BASE lets two runs on one machine use different databases.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
        base_index = int(os.environ.get("TEST_REDIS_DB_BASE", "1"))
        index = int(worker.removeprefix("gw") or 0) + base_index
        base = settings.CACHES["default"]["LOCATION"].rsplit("/", 1)[0]
        settings.CACHES["default"]["LOCATION"] = f"{base}/{index}"
        settings.CACHES["shared"]["LOCATION"] = f"{base}/{index}"
    else:
        # The "shared" cache's files would be shared by the suite's workers and kept between
        # runs: each test process keeps its own in memory (tests/notifications/
        # test_counter_processes.py puts files back where two processes must share it).
        settings.CACHES["shared"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if settings.TASKS["default"]["BACKEND"] != "django_tasks_db.DatabaseBackend":
        # With REDIS_URL the product queues on RQ. The unit suites read what was queued in
        # the database and run it themselves; RQ, with real workers, retries and a killed
        # worker, is tested against the production shape (tests/integration/test_tasks.py).
        from django.core.signals import setting_changed

        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        setting_changed.send(sender=None, setting="TASKS", value=settings.TASKS, enter=True)
    from django.core.signals import request_finished

    request_finished.connect(_close_live_server_connections, weak=False)
    # Each test process its own status snapshot file (status/snapshot.py), emptied per test.
    import tempfile

    settings.STATUS_SNAPSHOT_PATH = str(Path(tempfile.mkdtemp(prefix="status-")) / "snapshot.json")


def _close_live_server_connections(**kwargs: Any) -> None:
    """A live server's request thread keeps its (persistent) PostgreSQL connection while a
    client holds the HTTP connection open (keep-alive), and the test database cannot be
    dropped at the end. Close it after each response served outside the main thread; an
    in-memory SQLite database ignores the close (Django keeps it alive)."""
    import threading

    from django.db import connections

    if threading.current_thread() is not threading.main_thread():
        connections.close_all()


@pytest.fixture(autouse=True)
def _clean_cache() -> None:
    from django.core.cache import cache as django_cache
    from django.core.cache import caches

    from convergence.accounts.models import forget_open_school_year
    from convergence.core import fragments

    django_cache.clear()
    caches["shared"].clear()
    fragments.recent.clear()
    forget_open_school_year()
    _forget_status_snapshot()


def _forget_status_snapshot() -> None:
    from django.conf import settings

    from convergence.status import snapshot, views

    Path(settings.STATUS_SNAPSHOT_PATH).unlink(missing_ok=True)
    snapshot.forget()
    views.forget_recent_pages()


@pytest.fixture
def concurrent_db(transactional_db: None, tmp_path: Path) -> Iterator[None]:
    """A database that several threads, each with its own connection, use at once.

    PostgreSQL's test database already is one. SQLite's is in memory with a shared cache,
    where a second writer gets "database table is locked" at once (busy_timeout does not
    apply to shared-cache locks) and threads have been seen to hang for good. There the test
    runs on a copy in a file instead, with the settings' WAL and busy_timeout: same schema,
    same rows, copied with SQLite's backup API in milliseconds rather than migrated again.
    """
    from django.db import connection

    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    settings_dict = connection.settings_dict
    memory_name = settings_dict["NAME"]
    # The in-memory database lives as long as one connection to it is open.
    keeper = sqlite3.connect(memory_name, uri=True)
    try:
        file_name = str(tmp_path / "concurrent.sqlite3")
        with closing(sqlite3.connect(file_name)) as copy:
            keeper.backup(copy)
            # In WAL already, as a migrated database is: threads connecting at once would
            # otherwise race to switch the journal mode, and the losers get "database is
            # locked" from their connection's first PRAGMA.
            copy.execute("PRAGMA journal_mode=WAL")
        # Every thread's connection is made from this dict; once it names a file, close()
        # really closes the main thread's in-memory connection (it ignores in-memory ones).
        settings_dict["NAME"] = file_name
        connection.close()
        try:
            yield
        finally:
            connection.close()
            settings_dict["NAME"] = memory_name
            # Back on the in-memory database before the keeper lets it go; the flush that
            # ends a transactional test then empties that one.
            connection.ensure_connection()
    finally:
        keeper.close()


def _run_together(count: int, function: Callable[[int], T]) -> list[T]:
    barrier = threading.Barrier(count, timeout=THREAD_SECONDS)
    results: dict[int, T] = {}
    errors: list[BaseException] = []

    def one(number: int) -> None:
        from django.db import connections

        try:
            barrier.wait()
            results[number] = function(number)
        except BaseException as error:  # re-raised by the test's thread
            errors.append(error)
            # The others stop waiting for this one at the barrier.
            barrier.abort()
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=one, args=(number,), name=f"together-{number}", daemon=True)
        for number in range(count)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + THREAD_SECONDS
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = [thread for thread in threads if thread.is_alive()]
    if stuck:
        frames = sys._current_frames()
        stacks = "\n".join(
            f"--- {thread.name}\n" + "".join(traceback.format_stack(frames[thread.ident]))
            for thread in stuck
            if thread.ident in frames
        )
        pytest.fail(
            f"{len(stuck)} of {count} threads still running after {THREAD_SECONDS} s:\n{stacks}",
            pytrace=False,
        )
    if errors:
        raise errors[0]
    return [results[number] for number in range(count)]


def stop_serving(server: socketserver.BaseServer, thread: threading.Thread) -> None:
    """Stop a test's server and wait for the thread that ran ``serve_forever``, not forever."""
    server.shutdown()
    server.server_close()
    thread.join(timeout=THREAD_SECONDS)
    if thread.is_alive():
        pytest.fail(f"{thread.name} still serving {THREAD_SECONDS} s after shutdown", pytrace=False)


@pytest.fixture
def run_together() -> Callable[[int, Callable[[int], Any]], list[Any]]:
    """``run_together(count, function)``: ``function(n)`` in ``count`` threads released
    together by a barrier, and what each returned, in order of ``n``.

    Each thread closes its database connections when done, as a separate process would.
    Joins and the barrier have a timeout: a thread still running after ``THREAD_SECONDS``
    fails the test with its stack; a thread's exception is re-raised in the test.
    """
    return _run_together


@cache
def demo_blueprint() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEMO_BLUEPRINT.read_text(encoding="utf-8"))
    return data


def demo_people() -> dict[str, dict[str, Any]]:
    return {person["key"]: person for person in demo_blueprint()["people"]}


@pytest.fixture
def demo(db: None) -> None:
    """The demo académie of blueprints/demo.yaml, loaded once per database state."""
    from convergence.accounts.models import User
    from convergence.core.blueprints import apply

    if not User.objects.filter(first_name="Léa", last_name="Martin").exists():
        apply(demo_blueprint(), source=str(DEMO_BLUEPRINT))


def _person(key: str) -> Any:
    from convergence.accounts.models import User

    person = demo_people()[key]
    user = User.objects.get(first_name=person["first_name"], last_name=person["last_name"])
    user.demo_password = person.get("password", "")
    return user


@pytest.fixture
def pupil(demo: None) -> Any:
    """Léa Martin, 4e B at Collège Victor Hugo (Besançon, Doubs)."""
    return _person("lea")


@pytest.fixture
def pupil_in_dole(demo: None) -> Any:
    """Yanis Martin, 1re at Lycée Charles Nodier (Dole, Jura), Léa's brother."""
    return _person("yanis")


@pytest.fixture
def parent(demo: None) -> Any:
    """Karim Martin, father of Léa and Yanis (two schools, two departments)."""
    return _person("karim")


@pytest.fixture
def teacher(demo: None) -> Any:
    """Sophie Bernard, teaches at Collège Victor Hugo and Lycée Louis Pasteur."""
    return _person("sophie")


@pytest.fixture
def head_of_school(demo: None) -> Any:
    return _person("philippe")


@pytest.fixture
def cpe(demo: None) -> Any:
    return _person("nadia")


@pytest.fixture
def administrative_agent(demo: None) -> Any:
    """Claire Petit, secrétaire de gestion at Lycée Charles Nodier."""
    return _person("claire")


@pytest.fixture
def agent(demo: None) -> Any:
    return _person("thierry")


@pytest.fixture
def referent(demo: None) -> Any:
    return _person("julien")


@pytest.fixture
def dsi(demo: None) -> Any:
    """Isabelle Fontaine, DSI at the rectorat, administrator of the portal."""
    return _person("isabelle")


@pytest.fixture
def invited_pupil(demo: None) -> Any:
    """Hugo Lambert, 6e A, account not yet activated."""
    return _person("hugo")


# The throttle's clock, shared by every app's tests that replay an attack in time.
real_time = time.time


class Clock:
    """A clock that only moves when told: attempts happen at exact instants, delays are
    checked to the second."""

    def __init__(self) -> None:
        self.now = real_time()

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze the throttle's clock (``time.time``, not our code) for the test."""
    from convergence.accounts import throttle

    frozen = Clock()
    monkeypatch.setattr(throttle.time, "time", lambda: frozen.now)
    return frozen


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    """Background tasks run at once, inside the request or action that enqueues them."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def notification_mail() -> Callable[[], list[Any]]:
    """What the task worker does once an action's transaction commits: the notification
    e-mails due now go out (``notifications.actions.deliver_due_mail``); ``mail.outbox``.
    Tests run inside a transaction that never commits, so they call it themselves."""
    from django.core import mail

    from convergence.notifications.actions import deliver_due_mail

    def deliver() -> list[Any]:
        deliver_due_mail()
        return list(mail.outbox)

    return deliver
