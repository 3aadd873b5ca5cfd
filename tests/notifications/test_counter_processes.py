"""The bell's count is live across processes: a notification stored by another process (the
task worker's fan-out) changes what this one (a web process) answers at the next check,
through the "shared" cache — Redis under PostgreSQL + Redis, files otherwise (make run)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from convergence.core.notify import Category, notify

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]

OTHER_PROCESS = """
import django
django.setup()
from convergence.accounts.models import User
from convergence.core.notify import notify
told = notify(
    [User.objects.get(login="sbernard")], category="annonces", title="Depuis le worker"
)
print(told)
"""


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    return (
        f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:"
        f"{settings['PORT']}/{settings['NAME']}"
    )


@pytest.fixture
def shared_cache(settings: Any, tmp_path: Path) -> dict[str, str]:
    """This process's "shared" cache, and the environment that gives another process the
    same: the same Redis database, or the same folder of files."""
    shared = dict(settings.CACHES["shared"])
    env = {"CONVERGENCE_SHARED_CACHE_DIR": str(tmp_path / "shared-cache")}
    if shared["BACKEND"].endswith("RedisCache"):
        env["REDIS_URL"] = shared["LOCATION"]
    else:
        env["REDIS_URL"] = ""
        shared = {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env["CONVERGENCE_SHARED_CACHE_DIR"],
        }
    settings.CACHES = {**settings.CACHES, "shared": shared}
    return env


def test_a_notification_from_another_process_rings_the_bell_here(
    concurrent_db: None, teacher: Any, shared_cache: dict[str, str]
) -> None:
    notify([teacher], category=Category.ANNONCES, title="Avant")
    browser = Client()
    browser.force_login(teacher)
    first = browser.get("/notifications/compteur/")
    assert first.status_code == 200
    assert b">1<" in first.content
    etag = first["ETag"]
    assert browser.get("/notifications/compteur/", HTTP_IF_NONE_MATCH=etag).status_code == 304

    env = {
        **os.environ,
        **shared_cache,
        "DJANGO_SETTINGS_MODULE": "convergence.settings",
        "DATABASE_URL": database_url(),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    done = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("1")

    again = browser.get("/notifications/compteur/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200
    assert b">2<" in again.content
    assert again["ETag"] != etag
