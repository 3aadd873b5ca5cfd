"""Admission control at the peak: past capacity nginx refuses at once with the branded 503
(sign-in keeps a larger share), and the application refuses work that waited too long."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator

import requests

from deploy.prodlike import ProdLike, wait_until


@contextlib.contextmanager
def frozen(shape: ProdLike) -> Iterator[None]:
    """Every application process stopped (SIGSTOP): what is admitted stays in flight."""
    groups = [shape.children[f"web-{index + 1}"].process for index in range(2)]
    for process in groups:
        assert process is not None
        os.killpg(process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for process in groups:
            assert process is not None
            os.killpg(process.pid, signal.SIGCONT)


def _hold(url: str, answers: list[requests.Response | Exception]) -> threading.Thread:
    def call() -> None:
        try:
            answers.append(requests.get(url, timeout=30, allow_redirects=False))
        except requests.RequestException as error:
            answers.append(error)

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    return thread


def test_past_capacity_the_portal_refuses_fast_and_serves_sign_in_first(shape):
    assert shape.admitted == 16
    held: list[requests.Response | Exception] = []
    sign_in: list[requests.Response | Exception] = []
    with frozen(shape):
        threads = [_hold(f"{shape.url}/", held) for _ in range(shape.admitted)]
        time.sleep(1)  # all sixteen reached nginx and wait on the frozen processes
        started = time.monotonic()
        refused = requests.get(f"{shape.url}/", timeout=10, allow_redirects=False)
        refused_in = time.monotonic() - started
        sign_in_thread = _hold(f"{shape.url}/connexion/", sign_in)
        time.sleep(1)
        assert sign_in == []  # admitted: sign-in has room beyond the other pages' share
        assert held == []
    for thread in [*threads, sign_in_thread]:
        thread.join(timeout=30)

    assert refused.status_code == 503
    assert refused_in < 0.05
    assert refused.headers["Retry-After"] == "10"
    assert "CONV-503" in refused.text
    # The held requests reached the application two seconds late: refused at once, branded.
    assert len(held) == shape.admitted
    for answer in held:
        assert isinstance(answer, requests.Response)
        assert answer.status_code == 503
        assert "CONV-503" in answer.text
        assert answer.headers["Retry-After"]
    # Sign-in waited two seconds, within its doubled allowance: served.
    assert isinstance(sign_in[0], requests.Response)
    assert sign_in[0].status_code == 200
    # Recovery is immediate.
    wait_until(
        lambda: requests.get(f"{shape.url}/", timeout=10, allow_redirects=False).status_code == 302,
        timeout=5,
        what="served again",
    )


def test_clients_slow_to_send_their_request_hold_no_place(shape):
    """A bot opening many connections and sending its requests' bodies slowly (slowloris)
    must not use up the places: nginx buffers a request before handing it on, and only
    requests handed to the application count."""
    slow = []
    try:
        for number in range(3 * shape.admitted):
            path = "/connexion/" if number % 2 else "/"
            connection = socket.create_connection(("127.0.0.1", shape.port), timeout=5)
            connection.sendall(
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: 4000\r\n\r\nlogin=".encode()
            )
            slow.append(connection)
        time.sleep(0.5)
        page = requests.get(f"{shape.url}/", timeout=10, allow_redirects=False)
        assert page.status_code == 302  # to the sign-in: served, not refused
        assert requests.get(f"{shape.url}/connexion/", timeout=10).status_code == 200
    finally:
        for connection in slow:
            connection.close()
