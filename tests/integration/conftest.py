"""The production shape for the integration tests: nginx → two gunicorn processes → a
throw-away PostgreSQL cluster and Redis server of the suite's own, the RQ worker and the
scheduler (``deploy/prodlike.py``, the code behind ``make prod-like``).

The servers are the suite's own, on free loopback ports, so that the fault tests can stop
them without disturbing anything else on the machine. Under CI a missing tool (nginx,
PostgreSQL's server, Redis) fails the run; elsewhere it skips the integration tests.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from deploy.prodlike import Postgres, ProdLike, Redis, postgres_bin

# Short task-queue intervals, so that a killed worker's task is taken up within seconds.
SHAPE_ENV = {
    "CONVERGENCE_TASK_HEARTBEAT_SECONDS": "2",
    "CONVERGENCE_TASK_ABANDONED_GRACE_SECONDS": "3",
    "CONVERGENCE_TASK_MAINTENANCE_SECONDS": "3",
    "CONVERGENCE_TASK_RETRY_DELAYS": "0,3,6",
    "CONVERGENCE_METRICS_TOKEN": "jeton-de-test-des-metriques",
    # A message that could not be sent is tried again a second later (a minute by default).
    "CONVERGENCE_MAIL_RETRY_FIRST_SECONDS": "1",
}


def _require() -> None:
    missing = [tool for tool in ("nginx", "redis-server") if shutil.which(tool) is None]
    if shutil.which("nginx") is None and Path("/usr/sbin/nginx").exists():
        missing.remove("nginx")
    try:
        postgres_bin("initdb")
    except FileNotFoundError:
        missing.append("initdb (postgresql)")
    if missing:
        message = f"integration tests need {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    _require()
    server = Postgres.running()
    yield server
    server.remove()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Redis]:
    _require()
    server = Redis()
    server.start()
    yield server
    server.remove()


@pytest.fixture(scope="session")
def shape(postgres: Postgres, redis_server: Redis) -> Iterator[ProdLike]:
    var_dir = Path(tempfile.mkdtemp(prefix="convergence-shape-"))
    production = ProdLike(
        database_url=postgres.url(),
        redis_url=redis_server.url(),
        var_dir=var_dir,
        processes=2,
        threads=4,
        extra_env=SHAPE_ENV,
    )
    production.prepare()
    with production:
        production.start()
        yield production
    shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture
def sql(postgres: Postgres) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A connection to the shape's database, to check what the portal wrote."""
    with psycopg.connect(postgres.url(), autocommit=True, connect_timeout=5) as connection:
        yield connection


@pytest.fixture
def app_urls(shape: ProdLike) -> list[str]:
    """Each application process, reached directly (bypassing nginx)."""
    return [f"http://127.0.0.1:{port}" for port in shape.app_ports]
