"""The checks themselves: one HTTP(S) request, one TCP connection, one IMAP or SMTP greeting.

Standard library only, every call bounded by the probe's timeout (connect and each read), so
a hung target costs one timeout per try, never a stuck worker. A check answers an
``Outcome``: whether the service answered as expected, how long it took, and a short French
reason otherwise (shown to the DSI, never to the public).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

# Enough of a page to find a keyword near its top, never a whole large download.
MAX_BODY_BYTES = 256 * 1024
USER_AGENT = "Convergence-statut/1.0"


@dataclass(frozen=True)
class Spec:
    """What a check needs of a probe (a plain value: checks run in worker threads)."""

    kind: str
    target: str
    timeout: float
    retries: int = 0
    expected_status: int = 200
    keyword: str = ""


@dataclass(frozen=True)
class Outcome:
    ok: bool
    response_ms: int | None
    error: str = ""
    certificate_expires_at: dt.datetime | None = None


class CheckFailed(Exception):
    """The target answered, but not as expected (a French reason)."""


def _host_port(target: str, default_port: int) -> tuple[str, int, bool]:
    """``host:port``, ``[v6]:port`` or ``imaps://host:port``; whether TLS starts at once."""
    secure = False
    if "://" in target:
        parts = urlsplit(target)
        secure = parts.scheme.endswith("s")
        host, port = parts.hostname or "", parts.port or default_port
    else:
        host, _sep, port_text = target.rpartition(":")
        if not _sep:
            host, port_text = target, ""
        host = host.strip("[]")
        port = int(port_text) if port_text else default_port
    if not host:
        raise CheckFailed("adresse de la cible illisible")
    return host, port, secure


class _Deadline:
    """The whole check's time limit. Socket timeouts bound each call, not their sum: a target
    sending one byte every half second would hold a check for ever. When the deadline
    passes, the socket is shut down, which wakes whatever call is waiting on it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._timer: threading.Timer | None = None

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None or self._timer is not None:
            return

        def cut() -> None:
            self.fired = True
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        self._timer = threading.Timer(self.seconds, cut)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        """Stop watching; a check cut short is a timeout, whatever it read before."""
        if self._timer is not None:
            self._timer.cancel()
        if self.fired:
            raise TimeoutError("deadline")


def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def _certificate_expiry(sock: ssl.SSLSocket) -> dt.datetime | None:
    certificate = sock.getpeercert()
    not_after = certificate.get("notAfter") if certificate else None
    if not isinstance(not_after, str):
        return None
    return dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), tz=dt.UTC)


def _check_http(spec: Spec) -> dt.datetime | None:
    parts = urlsplit(spec.target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CheckFailed("adresse HTTP illisible")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=spec.timeout, context=_tls_context()
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=spec.timeout)
    # Connecting is bounded by the timeout; from then on, the whole exchange too.
    deadline = _Deadline(spec.timeout * 2)
    try:
        connection.connect()
        deadline.watch(connection.sock)
        connection.request(
            "GET", path, headers={"User-Agent": USER_AGENT, "Accept": "text/html,*/*"}
        )
        expires = None
        if isinstance(connection.sock, ssl.SSLSocket):
            expires = _certificate_expiry(connection.sock)
        response = connection.getresponse()
        body = response.read(MAX_BODY_BYTES) if spec.keyword else b""
        if response.status != spec.expected_status:
            raise CheckFailed(f"code HTTP {response.status} au lieu de {spec.expected_status}")
        if spec.keyword and spec.keyword.encode() not in body:
            raise CheckFailed(f"texte « {spec.keyword} » absent de la page")
        return expires
    finally:
        connection.close()
        deadline.cancel()


def _read_line(sock: socket.socket) -> bytes:
    """The first line the server sends (its greeting), at most 1 kB."""
    data = b""
    while b"\n" not in data and len(data) < 1024:
        chunk = sock.recv(1024)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n", 1)[0].rstrip(b"\r")


def _check_greeting(spec: Spec, default_port: int, expected: bytes, label: str) -> None:
    host, port, secure = _host_port(spec.target, default_port)
    deadline = _Deadline(spec.timeout * 2)
    with socket.create_connection((host, port), timeout=spec.timeout) as raw:
        deadline.watch(raw)
        try:
            if secure:
                with _tls_context().wrap_socket(raw, server_hostname=host) as wrapped:
                    line = _read_line(wrapped)
            else:
                line = _read_line(raw)
        finally:
            deadline.cancel()
    if not line.startswith(expected):
        shown = line[:60].decode("ascii", "replace") or "rien"
        raise CheckFailed(f"accueil {label} inattendu : « {shown} »")


def _check_tcp(spec: Spec) -> None:
    host, port, _secure = _host_port(spec.target, 0)
    if not port:
        raise CheckFailed("port manquant")
    socket.create_connection((host, port), timeout=spec.timeout).close()


def _once(spec: Spec) -> dt.datetime | None:
    if spec.kind == "http":
        return _check_http(spec)
    if spec.kind == "tcp":
        _check_tcp(spec)
    elif spec.kind == "imap":
        _check_greeting(spec, 143, b"* OK", "IMAP")
    elif spec.kind == "smtp":
        _check_greeting(spec, 25, b"220", "SMTP")
    else:
        raise CheckFailed(f"type de sonde inconnu : {spec.kind}")
    return None


def _reason(error: BaseException) -> str:
    if isinstance(error, CheckFailed):
        return str(error)
    if isinstance(error, TimeoutError):
        return "délai dépassé"
    if isinstance(error, ConnectionRefusedError):
        return "connexion refusée"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificat refusé : {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return "échec de la négociation TLS"
    if isinstance(error, socket.gaierror):
        return "nom d'hôte introuvable"
    if isinstance(error, OSError):
        return f"erreur réseau : {error.strerror or type(error).__name__}"
    return f"erreur : {type(error).__name__}"


def run(spec: Spec) -> Outcome:
    """Check once, and again up to ``retries`` times while it fails; the last try counts."""
    outcome = Outcome(ok=False, response_ms=None, error="jamais essayé")
    for _attempt in range(spec.retries + 1):
        started = time.perf_counter()
        try:
            expires = _once(spec)
        except Exception as error:
            outcome = Outcome(ok=False, response_ms=None, error=_reason(error)[:200])
            continue
        elapsed = round((time.perf_counter() - started) * 1000)
        return Outcome(ok=True, response_ms=elapsed, certificate_expires_at=expires)
    return outcome
