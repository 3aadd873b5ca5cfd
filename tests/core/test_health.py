"""Health probes (core/health.py): liveness touches nothing, readiness checks the database and
the cache within a second, and both answer before the session, the maintenance mode or the
database get a say."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import caches
from django.db import OperationalError

from convergence.core import health


@pytest.fixture(autouse=True)
def _fresh_readiness():
    """Each test's probes check anew (a process reuses an answer for a second)."""
    health.forget_recent_checks()
    yield
    health.forget_recent_checks()


def test_liveness_answers_ok_without_the_database(client):
    # No ``db`` fixture: any query would fail this test (pytest-django blocks the database).
    response = client.get("/sante/vivant")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Content-Type"].startswith("text/plain")
    assert response["Cache-Control"] == "no-store"


def test_readiness_answers_ok_when_database_and_cache_answer(client, db):
    response = client.get("/sante/pret")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert response["Cache-Control"] == "no-store"


def test_readiness_is_503_when_the_database_is_down(client, db, monkeypatch):
    def database_down() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "_check_database", database_down)
    response = client.get("/sante/pret")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.content.decode() == "base de données : indisponible\n"


def test_readiness_is_503_when_the_cache_raises(client, db, monkeypatch):
    def cache_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(type(caches["default"]), "set", cache_down)
    response = client.get("/sante/pret")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.content.decode() == "cache : indisponible\n"


def test_readiness_does_not_wait_for_a_hung_dependency(client, db, monkeypatch):
    release = threading.Event()

    def hung_cache() -> None:
        release.wait(timeout=30)

    monkeypatch.setattr(health, "_check_cache", hung_cache)
    started = time.monotonic()
    try:
        response = client.get("/sante/pret")
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert response.status_code == 503
    assert response.content.decode() == "cache : indisponible\n"
    # The deadline is one second; the bound is generous for a loaded machine.
    assert elapsed < 4


def test_readiness_is_503_at_once_when_every_check_thread_is_stuck(client, db, monkeypatch):
    monkeypatch.setattr(health, "_free", threading.BoundedSemaphore(1))
    health._free.acquire()  # the only thread hangs on an earlier check
    response = client.get("/sante/pret")
    assert response.status_code == 503
    assert "base de données : indisponible" in response.content.decode()
    assert "cache : indisponible" in response.content.decode()


@pytest.mark.parametrize("path", ["/sante/vivant", "/sante/pret"])
def test_probes_answer_during_maintenance(client, db, settings, path):
    settings.MAINTENANCE = True
    response = client.get(path)
    assert response.status_code == 200
    assert response.content == b"ok\n"


@pytest.mark.parametrize("path", ["/sante/vivant", "/sante/pret"])
def test_probes_answer_a_balancer_calling_by_address(client, db, path):
    # A balancer calls the backend by its address, which ALLOWED_HOSTS does not list.
    response = client.get(path, HTTP_HOST="10.20.30.40:8000")
    assert response.status_code == 200


def test_probes_set_no_session_cookie(client, db):
    response = client.get("/sante/pret")
    assert not response.cookies


def test_probes_refuse_writes(client):
    assert client.post("/sante/vivant").status_code == 405


def test_probes_in_a_flood_check_the_dependencies_once_a_second(client, db, monkeypatch):
    calls = []

    def counted() -> None:
        calls.append(time.monotonic())

    monkeypatch.setattr(health, "_check_database", counted)
    answers = [client.get("/sante/pret").status_code for _ in range(50)]
    assert answers == [200] * 50
    assert len(calls) == 1


def test_a_flood_of_probes_never_fills_the_check_threads(client, db, monkeypatch):
    """Anyone can call /sante/pret: many at once must not make it answer 503 (which would
    have a balancer pull healthy processes)."""
    monkeypatch.setattr(health, "_check_cache", lambda: time.sleep(0.3))
    answers: list[int] = []

    def probe() -> None:
        from django.test import Client

        answers.append(Client().get("/sante/pret").status_code)

    threads = [threading.Thread(target=probe) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive()
    assert answers == [200] * 12
