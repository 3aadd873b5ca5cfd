"""Service status (``src/convergence/status/``), in process.

1. ``/statut/`` served per second by Django's test client to a fresh browser, against the bare
   view (``bench/urls.py``) in the same run, in alternation: target ≥ 0.8 x the bare view;
   with the demo's two monitored services, then with the 50 services of part 2.
2. The worker's CPU for 500 probes (250 HTTP with a keyword, 250 TCP) checked every 60 s
   against local servers run in a subprocess (their CPU is not the worker's): the CPU time
   of ``probing.run_round()`` (``time.process_time``, every thread of the process, and
   ``getrusage``), for a round where every probe is due and for the rounds in between where
   none is (the worker runs one every ``STATUS_ROUND_SECONDS``); target < 5 % of one core.

Run: ``env -u DATABASE_URL .venv/bin/python bench/status.py`` (a throw-away SQLite database).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
WORK = Path(tempfile.mkdtemp(prefix="bench-status-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{WORK / 'db.sqlite3'}")
os.environ["CONVERGENCE_STATUS_SNAPSHOT"] = str(WORK / "status" / "snapshot.json")

DEMO_BLUEPRINT = ROOT / "blueprints" / "demo.yaml"
PROBES = 500
SERVICES = 50
INTERVAL = 60
ROUNDS = 5

# The targets, in their own process: a threaded HTTP server and a TCP listener that accepts
# and closes. They print their two ports, then serve until their standard input closes.
SERVERS = r"""
import socket, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html><title>ENT</title><body>" + b"x" * 2000 + b"</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

http = Server(("127.0.0.1", 0), Handler)
listener = socket.create_server(("127.0.0.1", 0), backlog=256)

def accept():
    while True:
        connection, _address = listener.accept()
        connection.close()

threading.Thread(target=http.serve_forever, daemon=True).start()
threading.Thread(target=accept, daemon=True).start()
print(http.server_address[1], listener.getsockname()[1], flush=True)
sys.stdin.read()
"""


def per_second(client: object, path: str, seconds: float = 0.5) -> float:
    get = client.get  # type: ignore[attr-defined]
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        get(path)
        count += 1
    return count / (time.perf_counter() - start)


def compare(client: object, path: str, rounds: int = 8) -> tuple[float, float, float] | None:
    """The page and the bare view in alternation (the machine is shared): medians of the
    rates and of the ratio of each round; None while the page does not answer 200."""
    get = client.get  # type: ignore[attr-defined]
    status = get(path).status_code
    if status != 200:
        print(f"  {path} answers {status}: not measured")
        return None
    for _ in range(20):
        get(path)
        get("/bench/bare/")
    pages, bares, ratios = [], [], []
    for _ in range(rounds):
        bare = per_second(client, "/bench/bare/")
        page = per_second(client, path)
        pages.append(page)
        bares.append(bare)
        ratios.append(page / bare)
    return statistics.median(pages), statistics.median(bares), statistics.median(ratios)


def show_page(client: object, label: str) -> None:
    measured = compare(client, "/statut/")
    if measured is not None:
        page, bare, ratio = measured
        print(f"  {label:24} {page:6.0f} /s, bare {bare:6.0f} /s: {ratio:.2f} x (target ≥ 0.8 x)")


def cpu_seconds() -> tuple[float, float]:
    """This process's CPU so far, every thread: process_time and getrusage (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return time.process_time(), usage.ru_utime + usage.ru_stime


def child_cpu(pid: int) -> float:
    """CPU seconds of a running child, from /proc (the servers' share, for the record)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def measure_round(now: dt.datetime) -> tuple[float, float, float, int]:
    """One round at ``now``: its wall time, process_time and getrusage CPU, and how many
    results it wrote."""
    from convergence.status import probing
    from convergence.status.models import ProbeResult

    before_results = ProbeResult.objects.count()
    cpu_before, rusage_before = cpu_seconds()
    started = time.perf_counter()
    probing.run_round(now=now)
    wall = time.perf_counter() - started
    cpu_after, rusage_after = cpu_seconds()
    written = ProbeResult.objects.count() - before_results
    return wall, cpu_after - cpu_before, rusage_after - rusage_before, written


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from convergence.core.models import Academie
    from convergence.portal.models import Service
    from convergence.status import snapshot
    from convergence.status.models import Probe, ProbeState

    if not Academie.objects.exists():
        Academie.objects.create(
            name="Académie de Besançon", official_host="testserver", mail_domain="ac-besancon.fr"
        )
    call_command("load_blueprint", str(DEMO_BLUEPRINT), quiet_notes=True, stdout=io.StringIO())
    # The demo's probes aim at 127.0.0.1:8001 and 8002; they stay in part 1's page (state
    # unknown), and are left out of part 2's 500.
    snapshot.refresh(with_history=True)
    client = Client()
    print("1. /statut/ against the bare view (median of 8 rounds of 0.5 s):")
    show_page(client, "demo (2 monitored)")

    server = subprocess.Popen(
        [sys.executable, "-c", SERVERS], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        http_port, tcp_port = (int(port) for port in server.stdout.readline().split())
        Probe.objects.update(is_enabled=False)
        services = Service.objects.bulk_create(
            Service(
                name=f"Service {number:02d}",
                slug=f"bench-service-{number:02d}",
                description="Service sondé par le banc d'essai.",
                url=f"https://service-{number:02d}.example.org/",
                category="gestion",
                position=200 + number,
            )
            for number in range(SERVICES)
        )
        probes = []
        for number in range(PROBES):
            service = services[number % SERVICES]
            http = number % 2 == 0
            probes.append(
                Probe(
                    service=service,
                    name=f"sonde-{number:03d}",
                    kind="http" if http else "tcp",
                    target=(
                        f"http://127.0.0.1:{http_port}/page-{number}"
                        if http
                        else f"127.0.0.1:{tcp_port}"
                    ),
                    keyword="ENT" if http else "",
                    interval_seconds=INTERVAL,
                    timeout_seconds=5,
                    retries=1,
                )
            )
        Probe.objects.bulk_create(probes)
        threads = settings.STATUS_PROBE_THREADS
        every = settings.STATUS_ROUND_SECONDS
        print(
            f"2. {PROBES} probes ({PROBES // 2} HTTP with a keyword, {PROBES // 2} TCP) on "
            f"{SERVICES} services, every {INTERVAL} s, {threads} threads, SQLite:"
        )
        start = timezone.now().replace(microsecond=0)
        server_before = child_cpu(server.pid)
        wall, cpu, rusage, written = measure_round(start)
        states = set(Probe.objects.filter(is_enabled=True).values_list("state", flat=True))
        assert written == PROBES and states == {ProbeState.UP}, (written, states)
        print(
            f"  first round (every probe unknown -> up): {wall:.2f} s wall, "
            f"CPU {cpu:.3f} s (getrusage {rusage:.3f} s)"
        )
        full, empty, walls = [], [], []
        for index in range(1, ROUNDS + 1):
            due_at = start + dt.timedelta(seconds=INTERVAL * index)
            wall, cpu, rusage, written = measure_round(due_at)
            assert written == PROBES, written
            full.append(max(cpu, rusage))
            walls.append(wall)
            # The rounds in between, when no probe is due.
            for step in range(1, INTERVAL // every):
                _wall, cpu, rusage, written = measure_round(
                    due_at + dt.timedelta(seconds=every * step)
                )
                assert written == 0, written
                empty.append(max(cpu, rusage))
        server_cpu = child_cpu(server.pid) - server_before
        per_round = statistics.median(full)
        per_empty = statistics.median(empty)
        per_minute = per_round + (INTERVAL // every - 1) * per_empty
        print(
            f"  round with {PROBES} due (median of {ROUNDS}): CPU {per_round:.3f} s, "
            f"wall {statistics.median(walls):.2f} s"
        )
        print(f"  round with none due (median of {len(empty)}): CPU {per_empty * 1000:.1f} ms")
        print(
            f"  per {INTERVAL} s (1 full + {INTERVAL // every - 1} empty rounds): CPU "
            f"{per_minute:.3f} s = {per_minute / INTERVAL * 100:.2f} % of one core "
            f"(target < 5 %)"
        )
        rounds_done = ROUNDS + 1
        print(f"  (the servers' own CPU, not counted: {server_cpu / rounds_done:.3f} s per round)")
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=10)
    print("1. again, with the 50 services of part 2 on the page:")
    show_page(client, f"{SERVICES + 2} services")


if __name__ == "__main__":
    main()
