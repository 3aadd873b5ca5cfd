"""The checks against real servers on 127.0.0.1 (port 0): HTTP(S), TCP, IMAP and SMTP greetings.

The small servers here are shared with test_probing.py (``serve_http``, ``Behaviour``).
"""

from __future__ import annotations

import datetime as dt
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from convergence.status import checks
from tests.conftest import stop_serving


@dataclass
class Behaviour:
    """What the HTTP server answers; changed by the test between checks."""

    status: int = 200
    body: bytes = b"<title>ENT Eclat</title>"
    delay: float = 0.0
    # The first ``fail_first`` requests answer 500.
    fail_first: int = 0
    requests: int = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    behaviour: Behaviour


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        behaviour = self.server.behaviour
        behaviour.requests += 1
        if behaviour.delay:
            time.sleep(behaviour.delay)
        status = 500 if behaviour.requests <= behaviour.fail_first else behaviour.status
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(behaviour.body)))
        self.end_headers()
        self.wfile.write(behaviour.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_http(
    behaviour: Behaviour, tls: ssl.SSLContext | None = None
) -> Iterator[tuple[str, _Server]]:
    """A threaded HTTP(S) server on a free port; its base URL and the server."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.behaviour = behaviour
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="http-test", daemon=True
    )
    thread.start()
    scheme = "https" if tls is not None else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}/", server
    finally:
        stop_serving(server, thread)


@contextmanager
def serve_greeting(line: bytes) -> Iterator[str]:
    """A TCP server that sends ``line`` to whoever connects; its ``host:port``."""

    class Greeter(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            self.request.sendall(line)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Greeter)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="greeting", daemon=True
    )
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        stop_serving(server, thread)


def closed_port() -> int:
    """A port nobody listens on (just released by the system)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port


def http_spec(url: str, **options: Any) -> checks.Spec:
    return checks.Spec(kind="http", target=url, timeout=options.pop("timeout", 2.0), **options)


def test_http_answering_with_the_keyword_is_ok() -> None:
    with serve_http(Behaviour()) as (url, _server):
        outcome = checks.run(http_spec(url, keyword="ENT"))
    assert outcome.ok
    assert outcome.error == ""
    assert outcome.response_ms is not None
    assert 0 <= outcome.response_ms < 2000
    assert outcome.certificate_expires_at is None


def test_http_wrong_status_fails_with_a_french_reason() -> None:
    with serve_http(Behaviour(status=503)) as (url, server):
        outcome = checks.run(http_spec(url))
    assert not outcome.ok
    assert outcome.response_ms is None
    assert outcome.error == "code HTTP 503 au lieu de 200"
    # No retry asked: one request.
    assert server.behaviour.requests == 1


def test_http_expected_status_other_than_200() -> None:
    with serve_http(Behaviour(status=302)) as (url, _server):
        assert checks.run(http_spec(url, expected_status=302)).ok


def test_http_missing_keyword_fails() -> None:
    with serve_http(Behaviour(body=b"<title>Maintenance</title>")) as (url, _server):
        outcome = checks.run(http_spec(url, keyword="ENT"))
    assert not outcome.ok
    assert outcome.error == "texte « ENT » absent de la page"


def test_http_server_stopped_is_connection_refused() -> None:
    with serve_http(Behaviour()) as (url, _server):
        assert checks.run(http_spec(url)).ok
    # The server is stopped and its port closed.
    outcome = checks.run(http_spec(url))
    assert not outcome.ok
    assert outcome.error == "connexion refusée"


def test_http_server_that_never_answers_fails_within_the_timeout() -> None:
    # Connections are accepted by the system (the backlog) but nobody ever reads or answers.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        started = time.monotonic()
        outcome = checks.run(http_spec(url, timeout=0.5))
        elapsed = time.monotonic() - started
    assert not outcome.ok
    assert outcome.error == "délai dépassé"
    # One try bounded by the timeout (generous margin for a busy machine, not a timing test).
    assert elapsed < 5


def test_http_retry_turns_a_first_failure_into_success() -> None:
    behaviour = Behaviour(fail_first=1)
    with serve_http(behaviour) as (url, _server):
        outcome = checks.run(http_spec(url, retries=1))
    assert outcome.ok
    assert behaviour.requests == 2


def test_http_without_retry_the_first_failure_counts() -> None:
    behaviour = Behaviour(fail_first=1)
    with serve_http(behaviour) as (url, _server):
        outcome = checks.run(http_spec(url, retries=0))
    assert not outcome.ok
    assert outcome.error == "code HTTP 500 au lieu de 200"


def test_http_retries_exhausted_reports_the_last_reason() -> None:
    behaviour = Behaviour(fail_first=5)
    with serve_http(behaviour) as (url, _server):
        outcome = checks.run(http_spec(url, retries=2))
    assert not outcome.ok
    assert behaviour.requests == 3
    assert outcome.error == "code HTTP 500 au lieu de 200"


def test_unreadable_targets_fail_with_a_reason() -> None:
    assert checks.run(http_spec("ftp://example.org/")).error == "adresse HTTP illisible"
    tcp = checks.run(checks.Spec(kind="tcp", target="127.0.0.1", timeout=1))
    assert tcp.error == "port manquant"
    unknown = checks.run(checks.Spec(kind="ping", target="127.0.0.1:1", timeout=1))
    assert unknown.error == "type de sonde inconnu : ping"


def test_tcp_listening_and_closed() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listening:
        listening.listen(8)
        target = f"127.0.0.1:{listening.getsockname()[1]}"
        outcome = checks.run(checks.Spec(kind="tcp", target=target, timeout=1))
    assert outcome.ok
    assert outcome.response_ms is not None
    closed = checks.run(checks.Spec(kind="tcp", target=f"127.0.0.1:{closed_port()}", timeout=1))
    assert not closed.ok
    assert closed.error == "connexion refusée"


def test_imap_greeting() -> None:
    with serve_greeting(b"* OK [CAPABILITY IMAP4rev1] ready\r\n") as target:
        assert checks.run(checks.Spec(kind="imap", target=target, timeout=1)).ok
    with serve_greeting(b"* BYE\r\n") as target:
        outcome = checks.run(checks.Spec(kind="imap", target=target, timeout=1))
    assert not outcome.ok
    assert outcome.error == "accueil IMAP inattendu : « * BYE »"


def test_smtp_greeting() -> None:
    with serve_greeting(b"220 mail ESMTP\r\n") as target:
        assert checks.run(checks.Spec(kind="smtp", target=target, timeout=1)).ok
    with serve_greeting(b"554 no\r\n") as target:
        outcome = checks.run(checks.Spec(kind="smtp", target=target, timeout=1))
    assert not outcome.ok
    assert outcome.error == "accueil SMTP inattendu : « 554 no »"


def test_greeting_server_closing_at_once_says_nothing() -> None:
    with serve_greeting(b"") as target:
        outcome = checks.run(checks.Spec(kind="smtp", target=target, timeout=1))
    assert outcome.error == "accueil SMTP inattendu : « rien »"


# HTTPS: a certificate for 127.0.0.1 made here with the cryptography package.

NOT_AFTER = dt.datetime(2031, 3, 14, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 expiring at ``NOT_AFTER``; (cert, key)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        .not_valid_after(NOT_AFTER)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def test_https_self_signed_certificate_is_refused(certificate: tuple[Path, Path]) -> None:
    with serve_http(Behaviour(), tls=_server_context(certificate)) as (url, _server):
        outcome = checks.run(http_spec(url))
    assert not outcome.ok
    assert outcome.error.startswith("certificat refusé : ")
    assert "self-signed" in outcome.error


def test_https_trusted_certificate_carries_its_expiry(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same server, with its certificate trusted as an authority would be: the check
    succeeds and reads when the certificate expires. Only the trust store changes."""
    trusted = ssl.create_default_context(cafile=str(certificate[0]))
    monkeypatch.setattr(checks, "_tls_context", lambda: trusted)
    with serve_http(Behaviour(), tls=_server_context(certificate)) as (url, _server):
        outcome = checks.run(http_spec(url, keyword="ENT"))
    assert outcome.ok, outcome.error
    assert outcome.certificate_expires_at == NOT_AFTER


def test_imaps_greeting_over_tls(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``imaps://`` starts TLS at once, then reads the greeting."""
    tls = _server_context(certificate)

    class Greeter(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            try:
                with tls.wrap_socket(self.request, server_side=True) as secured:
                    secured.sendall(b"* OK ready\r\n")
                    # Wait for the client to close, so the greeting is read before the alert.
                    secured.settimeout(2)
                    secured.recv(1)
            except OSError:
                pass

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Greeter)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="imaps", daemon=True
    )
    thread.start()
    try:
        target = f"imaps://127.0.0.1:{server.server_address[1]}"
        refused = checks.run(checks.Spec(kind="imap", target=target, timeout=2))
        trusted = ssl.create_default_context(cafile=str(certificate[0]))
        monkeypatch.setattr(checks, "_tls_context", lambda: trusted)
        accepted = checks.run(checks.Spec(kind="imap", target=target, timeout=2))
    finally:
        stop_serving(server, thread)
    assert refused.error.startswith("certificat refusé : ")
    assert accepted.ok, accepted.error


@contextmanager
def serve_drip(chunk: bytes, every: float) -> Iterator[str]:
    """A server that answers one byte of ``chunk`` every ``every`` seconds, for ever (each
    read is quick, their sum is not); its address."""
    stop = threading.Event()

    class Drip(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            index = 0
            while not stop.is_set():
                try:
                    self.request.sendall(chunk[index % len(chunk) : index % len(chunk) + 1])
                except OSError:
                    return
                index += 1
                stop.wait(every)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Drip)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="drip", daemon=True
    )
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        stop_serving(server, thread)


@pytest.mark.parametrize(
    ("kind", "chunk"),
    [("http", b"HTTP/1.1 200 OK\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa"), ("imap", b"* OK hello")],
)
def test_a_target_answering_byte_by_byte_is_cut_at_the_deadline(kind: str, chunk: bytes) -> None:
    """Socket timeouts bound each read, not their sum: the whole check has its own limit."""
    with serve_drip(chunk, every=0.1) as address:
        target = f"http://{address}/" if kind == "http" else address
        started = time.monotonic()
        outcome = checks.run(checks.Spec(kind=kind, target=target, timeout=0.5))
        elapsed = time.monotonic() - started
    assert not outcome.ok
    # Twice the timeout, with a generous margin for a busy machine (without the deadline the
    # check went on as long as the server did).
    assert elapsed < 5, elapsed
