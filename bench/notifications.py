"""The bell's unread count (``notifications/views.py`` ``badge``), in process.

Every open page asks ``/notifications/compteur/`` every 30 s: 20,000 people with the portal
open are 670 checks a second. The issue's target is ≤ 1 ms of server CPU per check. Measured
with Django's test client, signed in as the demo teacher with unread notifications, in
alternation with the bare view (``bench/urls.py``, the same middleware, no session read) so
the machine's load hits both alike:

- ``304``: the browser sends the ETag it has, nothing changed (the common case);
- ``200``: no ETag (the first check of a page rendered before the last change);
- ``changed``: a notification arrives before every check (the cache's version is replaced,
  the count is read once from the database).

For each: checks per second, CPU per check (``time.process_time``: this process's every
thread, the test client's own work included), and that CPU minus the bare view's, which is
the badge's own cost over any request's. With ``--redis-url`` the cache and the sessions are
Redis (as in production), else the local-memory cache and database sessions.

Run: ``env -u DATABASE_URL .venv/bin/python bench/notifications.py [--redis-url redis://…/15]``
(a throw-away SQLite database).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
WORK = Path(tempfile.mkdtemp(prefix="bench-notifications-"))
DEMO_BLUEPRINT = ROOT / "blueprints" / "demo.yaml"
TARGET_MS = 1.0


def rate(call: Callable[[], object], seconds: float = 0.5) -> tuple[float, float]:
    """Calls per second and CPU milliseconds per call, over ``seconds``."""
    count = 0
    cpu_start, start = time.process_time(), time.perf_counter()
    while time.perf_counter() - start < seconds:
        call()
        count += 1
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    return count / wall, cpu / count * 1000


def compare(
    label: str, check: Callable[[], object], bare: Callable[[], object], rounds: int = 8
) -> float:
    for _ in range(30):
        check()
        bare()
    checks, cpus, bare_cpus, ratios = [], [], [], []
    for _ in range(rounds):
        bare_rate, bare_cpu = rate(bare)
        check_rate, check_cpu = rate(check)
        checks.append(check_rate)
        cpus.append(check_cpu)
        bare_cpus.append(bare_cpu)
        ratios.append(check_rate / bare_rate)
    cpu, bare_cpu = statistics.median(cpus), statistics.median(bare_cpus)
    print(
        f"  {label:9} {statistics.median(checks):6.0f} /s ({statistics.median(ratios):.2f} x "
        f"the bare view), {cpu:5.2f} ms CPU per check, {cpu - bare_cpu:5.2f} ms over the "
        f"bare view's {bare_cpu:.2f}"
    )
    return cpu - bare_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", default="", help="cache and sessions in this Redis")
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{WORK / 'db.sqlite3'}")
    if options.redis_url:
        os.environ["REDIS_URL"] = options.redis_url
    else:
        os.environ.pop("REDIS_URL", None)

    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    from convergence.accounts.models import User
    from convergence.core.models import Academie
    from convergence.core.notify import Category, notify

    if not Academie.objects.exists():
        Academie.objects.create(
            name="Académie de Besançon", official_host="testserver", mail_domain="ac-besancon.fr"
        )
    call_command("load_blueprint", str(DEMO_BLUEPRINT), quiet_notes=True, stdout=io.StringIO())
    if options.redis_url:
        cache.clear()
    teacher = User.objects.get(login="sbernard")
    for number in range(5):
        notify([teacher], category=Category.ANNONCES, title=f"Annonce {number}")
    client = Client()
    client.force_login(teacher)
    path = "/notifications/compteur/"
    first = client.get(path)
    assert first.status_code == 200, first.status_code
    etag = first["ETag"]

    def bare() -> object:
        return client.get("/bench/bare/")

    def check_304() -> object:
        response = client.get(path, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 304
        return response

    def check_200() -> object:
        return client.get(path)

    def changed() -> object:
        from convergence.notifications import counter

        counter.changed([teacher.pk])
        return client.get(path, HTTP_IF_NONE_MATCH=etag)

    cache_name = "Redis" if options.redis_url else "local memory"
    print(
        f"Unread-count checks against the bare view ({cache_name} cache, "
        f"{settings.SESSION_ENGINE.rsplit('.', 1)[-1]} sessions; median of 8 rounds of 0.5 s):"
    )
    over = compare("304", check_304, bare)
    compare("200", check_200, bare)
    compare("changed", changed, bare)
    verdict = "atteint" if over <= TARGET_MS else "NON ATTEINT"
    print(f"Cible : ≤ {TARGET_MS:.0f} ms de CPU serveur par vérification (304) — {verdict}")
    if options.redis_url:
        cache.clear()


if __name__ == "__main__":
    main()
