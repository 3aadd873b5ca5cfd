"""Load generator of bench/run.py: many threads, standard library only, JSON on stdout.

Runs in its own process so that its CPU use can be told apart from the server's. Modes:

* ``logins``: each attempt is the browser's sign-in — GET /connexion/ (CSRF cookie and
  token), then POST the credentials; a success is a 302 to the dashboard. The redirect is not
  followed: that page is measured by the ``get`` mode.
* ``get``: the same GET again and again (with a session cookie) on keep-alive connections.
* ``refresh``: each thread owns a refresh-token chain (``--tokens``: client id, secret and
  token per line) and rotates it: POST /oidc/token/ grant_type=refresh_token, keep the new one.
* ``client-credentials``: POST /oidc/token/ grant_type=client_credentials (``--client``).
* ``cas-validate``: GET /cas/p3/serviceValidate for tickets issued beforehand (``--tickets``:
  service URL and ticket per line), each once.
* ``code-logins``: a person's whole OpenID Connect sign-in — the ``logins`` flow, then GET
  /oidc/authorize/ (PKCE S256) and POST /oidc/token/ with the code (``--accounts``,
  ``--client``).

Only loopback is allowed. Results are counted in a measuring window after a warm-up.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import itertools
import json
import os
import re
import resource
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path

CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
HOST = "127.0.0.1"
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


class Connection:
    """One keep-alive connection, reopened when the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.http = http.client.HTTPConnection(HOST, port, timeout=30)

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        for attempt in range(2):
            try:
                self.http.request(method, path, body=body, headers=headers)
                response = self.http.getresponse()
                content = response.read()
                if response.will_close:
                    self.http.close()
                return response.status, response.headers, content
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.http.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")


def cookies_of(headers: http.client.HTTPMessage) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for value in headers.get_all("Set-Cookie") or []:
        jar.load(value)
    return {name: morsel.value for name, morsel in jar.items()}


def sign_in(
    connection: Connection, login: str, password: str, device_cookie: str = ""
) -> tuple[bool, str]:
    """GET the form, POST the credentials; True when answered by a redirect to ``/``.

    ``device_cookie`` (``name=value``) is what a browser the account signed in from before
    holds: the portal knows it (no new-device alert)."""
    sent = {"Cookie": device_cookie} if device_cookie else {}
    status, headers, content = connection.request("GET", "/connexion/", None, sent)
    match = CSRF_FIELD.search(content)
    if status != 200 or match is None:
        return False, f"GET {status}"
    cookie = "; ".join(
        [
            *([device_cookie] if device_cookie else []),
            *(f"{k}={v}" for k, v in cookies_of(headers).items()),
        ]
    )
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": match.group(1).decode(), "login": login, "password": password}
    ).encode()
    status, headers, _content = connection.request(
        "POST",
        "/connexion/",
        body,
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    if status == 302 and headers.get("Location") == "/":
        return True, "302"
    return False, f"POST {status}"


def post_form(
    connection: Connection, path: str, fields: dict[str, str], cookie: str = ""
) -> tuple[int, http.client.HTTPMessage, bytes]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["Cookie"] = cookie
    return connection.request("POST", path, urllib.parse.urlencode(fields).encode(), headers)


def code_login(
    connection: Connection, login: str, password: str, client: tuple[str, str, str]
) -> tuple[bool, str]:
    """Sign in, authorize with PKCE S256, exchange the code: a service's whole sign-in."""
    client_id, secret, redirect_uri = client
    status, headers, content = connection.request("GET", "/connexion/", None, {})
    match = CSRF_FIELD.search(content)
    if status != 200 or match is None:
        return False, f"GET {status}"
    jar = cookies_of(headers)
    fields = {"csrfmiddlewaretoken": match.group(1).decode(), "login": login, "password": password}
    status, headers, _ = post_form(
        connection, "/connexion/", fields, "; ".join(f"{k}={v}" for k, v in jar.items())
    )
    if status != 302:
        return False, f"POST {status}"
    jar.update(cookies_of(headers))
    verifier = base64.urlsafe_b64encode(os.urandom(48)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid profile",
            "state": "bench",
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
    )
    status, headers, _ = connection.request(
        "GET",
        f"/oidc/authorize/?{query}",
        None,
        {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())},
    )
    location = headers.get("Location", "")
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).get("code")
    if status != 302 or not code:
        return False, f"authorize {status}"
    status, _, content = post_form(
        connection,
        "/oidc/token/",
        {
            "grant_type": "authorization_code",
            "code": code[0],
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "client_secret": secret,
            "code_verifier": verifier,
        },
    )
    return status == 200 and b"id_token" in content, f"token {status}"


class Chains:
    """Refresh-token chains, one per thread at a time."""

    def __init__(self, path: Path) -> None:
        self._free = [line.split("\t") for line in path.read_text().splitlines() if line]
        self._lock = threading.Lock()

    def take(self) -> list[str]:
        with self._lock:
            return self._free.pop()


class Tickets:
    def __init__(self, path: Path) -> None:
        self._items = [line.split("\t") for line in path.read_text().splitlines() if line]
        self._lock = threading.Lock()

    def next(self) -> list[str] | None:
        with self._lock:
            return self._items.pop() if self._items else None


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(
    worker: Callable[[Connection], tuple[bool, str]],
    *,
    port: int,
    concurrency: int,
    warmup: float,
    duration: float,
    server_pid: int | None = None,
    rate: float = 0.0,
) -> dict[str, object]:
    """Run ``worker`` in loops on ``concurrency`` threads; count what ends in the window.

    With ``rate`` (requests per second), requests are started on a fixed schedule instead of
    back to back (an open loop), and each latency counts from the request's scheduled time:
    a server falling behind shows in the percentiles instead of slowing the client down.
    """
    started = time.perf_counter()
    window_start = started + warmup
    window_end = window_start + duration
    # (scheduled or actual start, end, ok, outcome, actual start)
    results: list[tuple[float, float, bool, str, float]] = []
    lock = threading.Lock()
    slots = itertools.count()

    def loop() -> None:
        connection = Connection(port)
        local: list[tuple[float, float, bool, str, float]] = []
        while True:
            begin = time.perf_counter()
            if rate:
                begin = started + next(slots) / rate
                pause = begin - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
            if begin >= window_end or time.perf_counter() >= window_end:
                # Past the window in real time too: a server that fell behind leaves the
                # rest of the schedule unsent (counted as "not sent"), the run ends on time.
                break
            sent = time.perf_counter()
            try:
                ok, outcome = worker(connection)
            except (OSError, http.client.HTTPException) as error:
                ok, outcome = False, type(error).__name__
                connection = Connection(port)
            local.append((begin, time.perf_counter(), ok, outcome, sent))
        with lock:
            results.extend(local)

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, window_start - time.perf_counter()))
    server = server_processes(server_pid) if server_pid else []
    cpu_start = resource.getrusage(resource.RUSAGE_SELF)
    server_start, (busy_start, total_start) = cpu_ticks(server), machine_ticks()
    time.sleep(max(0.0, window_end - time.perf_counter()))
    cpu_end = resource.getrusage(resource.RUSAGE_SELF)
    server_end, (busy_end, total_end) = cpu_ticks(server), machine_ticks()
    for thread in threads:
        thread.join(timeout=60)
    if rate:
        # Open loop: every request scheduled in the window, however late it ended (a server
        # that falls behind must not hide its slowest answers past the window's end).
        counted = [r for r in results if window_start <= r[0] < window_end]
    else:
        counted = [r for r in results if window_start <= r[1] <= window_end]
    latencies = [end - begin for begin, end, ok, _, _sent in counted if ok]
    outcomes: dict[str, int] = {}
    # Per outcome: latency from the scheduled start (what a person waits, lateness of the
    # generator included) and from the moment the request was sent (what the server took).
    by_outcome: dict[str, dict[str, list[float]]] = {}
    for begin, end, _ok, outcome, sent in counted:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        times = by_outcome.setdefault(outcome, {"scheduled": [], "sent": []})
        times["scheduled"].append(end - begin)
        times["sent"].append(end - sent)
    cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
    scheduled = int(rate * (window_end - started)) if rate else 0
    return {
        "window": duration,
        "not_sent": max(0, scheduled - len(results)) if rate else 0,
        "ok": len(latencies),
        "failed": len(counted) - len(latencies),
        "rate": len(latencies) / duration,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "outcomes": outcomes,
        "latency_by_outcome_ms": {
            outcome: {
                "p50": percentile(times["scheduled"], 0.50) * 1000,
                "p99": percentile(times["scheduled"], 0.99) * 1000,
                "p99_sent": percentile(times["sent"], 0.99) * 1000,
                "max_sent": max(times["sent"]) * 1000,
            }
            for outcome, times in by_outcome.items()
        },
        "cpu_seconds": cpu,
        "server_cpu_seconds": (server_end - server_start) / TICKS_PER_SECOND,
        "machine_busy": (busy_end - busy_start) / max(1, total_end - total_start),
    }


class AccountPool:
    """Every account once, then again from the start (from one address, successes are never
    throttled). Shared by the threads."""

    def __init__(self, path: Path) -> None:
        # login<TAB>password, optionally <TAB>the device cookie of a known browser.
        rows = [[*line.split("\t"), ""][:3] for line in path.read_text().splitlines() if line]
        self._cycle = itertools.cycle([tuple(row) for row in rows])
        self._lock = threading.Lock()

    def next(self) -> tuple[str, str]:
        login, password, _cookie = self.next_with_cookie()
        return login, password

    def next_with_cookie(self) -> tuple[str, str, str]:
        with self._lock:
            login, password, cookie = next(self._cycle)
            return login, password, cookie


def cpu_ticks(pids: list[int]) -> int:
    """User + system clock ticks of these processes (all their threads)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def server_processes(master: int) -> list[int]:
    """The gunicorn master and its workers."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [master, *(int(pid) for pid in children)]


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of the whole machine since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "mode",
        choices=["logins", "get", "refresh", "client-credentials", "cas-validate", "code-logins"],
    )
    parser.add_argument("--tokens", type=Path, help="refresh: client<TAB>secret<TAB>token lines")
    parser.add_argument("--tickets", type=Path, help="cas-validate: service<TAB>ticket lines")
    parser.add_argument(
        "--client", default="", help="client-credentials, code-logins: id<TAB>secret<TAB>redirect"
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--accounts", type=Path, help="logins: file of login<TAB>password")
    parser.add_argument("--path", default="/", help="get: the path to request")
    parser.add_argument("--cookie", default="", help="get: Cookie header")
    parser.add_argument("--server-pid", type=int, help="gunicorn master, to measure its CPU")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="requests per second on a fixed schedule"
    )
    options = parser.parse_args()

    if options.mode == "logins":
        if options.accounts is None:
            parser.error("--accounts is required in logins mode")
        accounts = AccountPool(options.accounts)

        def worker(connection: Connection) -> tuple[bool, str]:
            login, password, device_cookie = accounts.next_with_cookie()
            return sign_in(connection, login, password, device_cookie)

    elif options.mode == "refresh":
        chains = Chains(options.tokens)
        owned = threading.local()

        def worker(connection: Connection) -> tuple[bool, str]:
            if not hasattr(owned, "chain"):
                owned.chain = chains.take()
            client_id, secret, token = owned.chain
            status, _headers, content = post_form(
                connection,
                "/oidc/token/",
                {
                    "grant_type": "refresh_token",
                    "refresh_token": token,
                    "client_id": client_id,
                    "client_secret": secret,
                },
            )
            if status != 200:
                return False, str(status)
            owned.chain = [client_id, secret, json.loads(content)["refresh_token"]]
            return True, "200"

    elif options.mode == "client-credentials":
        client_id, secret, _redirect = options.client.split("\t")

        def worker(connection: Connection) -> tuple[bool, str]:
            status, _headers, _content = post_form(
                connection,
                "/oidc/token/",
                {
                    "grant_type": "client_credentials",
                    "scope": "introspection",
                    "client_id": client_id,
                    "client_secret": secret,
                },
            )
            return status == 200, str(status)

    elif options.mode == "cas-validate":
        tickets = Tickets(options.tickets)

        def worker(connection: Connection) -> tuple[bool, str]:
            item = tickets.next()
            if item is None:
                time.sleep(0.05)
                return False, "no ticket left"
            service, ticket = item
            query = urllib.parse.urlencode({"service": service, "ticket": ticket})
            status, _headers, content = connection.request(
                "GET", f"/cas/p3/serviceValidate?{query}", None, {}
            )
            return status == 200 and b"authenticationSuccess" in content, str(status)

    elif options.mode == "code-logins":
        accounts = AccountPool(options.accounts)
        client = tuple(options.client.split("\t"))

        def worker(connection: Connection) -> tuple[bool, str]:
            login, password = accounts.next()
            return code_login(connection, login, password, client)  # type: ignore[arg-type]

    else:
        headers = {"Cookie": options.cookie} if options.cookie else {}

        def worker(connection: Connection) -> tuple[bool, str]:
            status, _headers, _content = connection.request("GET", options.path, None, headers)
            return status == 200, str(status)

    result = run(
        worker,
        port=options.port,
        concurrency=options.concurrency,
        warmup=options.warmup,
        duration=options.duration,
        server_pid=options.server_pid,
        rate=options.rate,
    )
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
