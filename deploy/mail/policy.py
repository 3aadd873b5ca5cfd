#!/usr/bin/python3
"""Postfix policy service of the sending limits: asks the portal before accepting a message.

Postfix (``smtpd_end_of_data_restrictions = check_policy_service inet:127.0.0.1:10040``, see
deploy/mail/postfix/main.cf) connects to this daemon and sends, for each message, the
attributes of its policy delegation protocol — ``name=value`` lines ended by an empty line —
and reads back one ``action=…`` line and an empty line (Postfix's SMTPD_POLICY_README). The
daemon POSTs the SASL login, the number of recipients, the SASL mechanism and the client's
address to ``{portal}/messagerie/serveur/envoi/`` as the académie's mail server (HTTP Basic
with the ``server_clients:`` credentials, as ``checkpassword.py``), and answers:

* ``action=DUNNO`` — the portal allows it (Postfix's next restrictions decide: it permits);
* ``action=REJECT 5.7.1 <text>`` — over a sending limit, or sending suspended by the DSI;
* ``action=DEFER_IF_PERMIT 4.7.1 <text>`` — the portal cannot say now (down, slow beyond the
  timeout, a database error there, an unexpected answer): the client tries again later.
  Failing closed: nothing is accepted unchecked.

Asked at END-OF-MESSAGE (``recipient_count``), not at each RCPT: one question per message
(not one per recipient), and a message is refused whole, as the webmail refuses it, never
sent to the first thirty pupils of a class and not the others; a transaction the client
abandons before the end counts nothing. The message's content has been received by then,
which ``message_size_limit`` bounds.

Requests without a SASL login (none reach here: the instance refuses unauthenticated
clients) and other protocol states are answered DUNNO. Texts sent back are ASCII (SMTP).

Standard library only, like checkpassword.py: it runs with the system's ``/usr/bin/python3``.
Its configuration is a file only root and the daemon's user read (``policy.conf``: the same
``portal_url``, ``client_id``, ``client_secret``, ``timeout_seconds`` as checkpassword.conf, and
``listen = 127.0.0.1:10040``); its path in ``CONVERGENCE_POLICY_CONFIG`` or ``--config``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import socketserver
import sys
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

CONFIG_ENV = "CONVERGENCE_POLICY_CONFIG"
DEFAULT_CONFIG = "/etc/postfix-convergence/policy.conf"
DEFAULT_LISTEN = "127.0.0.1:10040"
ENDPOINT = "/messagerie/serveur/envoi/"
# Bounds of one request: Postfix sends a few dozen short attributes.
MAX_LINE_BYTES = 4096
MAX_ATTRIBUTES = 100
# Postfix keeps an idle connection for max_idle (300 s) and reconnects as needed.
IDLE_SECONDS = 330.0
DEFAULT_TIMEOUT_SECONDS = 5.0
MAX_TEXT = 200

ALLOW = "action=DUNNO"
UNAVAILABLE_TEXT = "Limites d'envoi momentanement inverifiables, reessayez plus tard"


class Lines(Protocol):
    """What requests are read from: a socket's file, or bytes in a test."""

    def readline(self, size: int = -1, /) -> bytes: ...


class ProtocolError(ValueError):
    """A request that does not follow the policy delegation protocol."""


class PortalUnavailable(OSError):
    """The portal could not be asked or gave no usable answer."""


def log(message: str) -> None:
    sys.stderr.write(f"convergence-policy: {message}\n")
    sys.stderr.flush()


def read_config(path: str) -> dict[str, str]:
    """``key = value`` lines; ``portal_url``, ``client_id`` and ``client_secret`` required."""
    config: dict[str, str] = {}
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            config[key.strip()] = value.strip()
    missing = {"portal_url", "client_id", "client_secret"} - config.keys()
    if missing:
        raise ValueError(f"missing {', '.join(sorted(missing))}")
    return config


def read_request(stream: Lines) -> dict[str, str] | None:
    """One request's attributes, read up to its empty line; ``None`` at the end of the
    connection before any attribute. A repeated name keeps its last value (Postfix sends
    each once). Raises :class:`ProtocolError` on a malformed or oversized request."""
    attributes: dict[str, str] = {}
    count = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            if count:
                raise ProtocolError("connection closed inside a request")
            return None
        if len(line) > MAX_LINE_BYTES:
            raise ProtocolError("attribute line too long")
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if not text:
            if not count:
                continue  # stray empty line between requests
            return attributes
        name, sep, value = text.partition("=")
        if not sep or not name or not name.replace("_", "").isalnum():
            raise ProtocolError("not a name=value line")
        count += 1
        if count > MAX_ATTRIBUTES:
            raise ProtocolError("too many attributes")
        attributes[name.lower()] = value


def ascii_text(text: str) -> str:
    """``text`` as SMTP may carry it: accents taken off, other non-ASCII and control
    characters dropped, on one line, bounded."""
    decomposed = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
    kept = "".join(
        ch if 32 <= ord(ch) < 127 else " " if ch in "\r\n\t" else "" for ch in decomposed
    )
    return " ".join(kept.split())[:MAX_TEXT]


@dataclass(frozen=True)
class Answer:
    allowed: bool
    temporary: bool = False
    text: str = ""


Asker = Callable[[dict[str, str]], Answer]


def decide(attributes: dict[str, str], ask: Asker) -> str:
    """The action line for one request (without its trailing empty line)."""
    if attributes.get("request") != "smtpd_access_policy":
        return ALLOW
    if attributes.get("protocol_state", "").upper() != "END-OF-MESSAGE":
        return ALLOW
    if not attributes.get("sasl_username"):
        return ALLOW
    try:
        count = int(attributes.get("recipient_count", ""))
    except ValueError:
        return f"action=DEFER_IF_PERMIT 4.7.1 {UNAVAILABLE_TEXT}"
    if count < 0:
        return f"action=DEFER_IF_PERMIT 4.7.1 {UNAVAILABLE_TEXT}"
    try:
        answer = ask({**attributes, "recipient_count": str(count)})
    except PortalUnavailable as error:
        log(f"portal not asked, message of {attributes['sasl_username']!r} deferred: {error}")
        return f"action=DEFER_IF_PERMIT 4.7.1 {UNAVAILABLE_TEXT}"
    if answer.allowed:
        return ALLOW
    text = ascii_text(answer.text) or "Envoi refuse"
    if answer.temporary:
        return f"action=DEFER_IF_PERMIT 4.7.1 {text}"
    return f"action=REJECT 5.7.1 {text}"


class Portal:
    """Asks the portal's ``/messagerie/serveur/envoi/`` within ``timeout`` seconds."""

    def __init__(self, config: dict[str, str]) -> None:
        self.url = config["portal_url"].rstrip("/") + ENDPOINT
        secret = f"{config['client_id']}:{config['client_secret']}".encode()
        self.authorization = "Basic " + base64.b64encode(secret).decode("ascii")
        self.timeout = float(config.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS))

    def __call__(self, attributes: dict[str, str]) -> Answer:
        body = urllib.parse.urlencode(
            {
                "login": attributes.get("sasl_username", ""),
                "recipients": attributes.get("recipient_count", "0"),
                "sasl_method": attributes.get("sasl_method", ""),
                "client_address": attributes.get("client_address", ""),
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - the configured portal address
            self.url,
            data=body,
            method="POST",
            headers={
                "Authorization": self.authorization,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer: Any = json.loads(response.read(4096))
        except urllib.error.HTTPError as error:
            raise PortalUnavailable(f"the portal answered {error.code}") from error
        except (OSError, ValueError) as error:  # URLError, timeouts, not JSON
            raise PortalUnavailable(str(error) or type(error).__name__) from error
        if not isinstance(answer, dict) or answer.get("action") not in {"allow", "refuse"}:
            raise PortalUnavailable("the portal's answer names no action")
        if answer["action"] == "allow":
            return Answer(allowed=True)
        return Answer(
            allowed=False,
            temporary=bool(answer.get("temporary")),
            text=str(answer.get("text") or ""),
        )


class PolicyHandler(socketserver.StreamRequestHandler):
    """One Postfix connection: requests answered in turn until Postfix closes it."""

    timeout = IDLE_SECONDS
    server: PolicyServer

    def handle(self) -> None:
        while True:
            try:
                attributes = read_request(self.rfile)
            except ProtocolError as error:
                log(f"malformed request, connection closed: {error}")
                return
            except OSError:  # idle timeout, reset
                return
            if attributes is None:
                return
            action = decide(attributes, self.server.ask)
            try:
                self.wfile.write(f"{action}\n\n".encode("ascii"))
                self.wfile.flush()
            except OSError:
                return


class PolicyServer(socketserver.ThreadingTCPServer):
    """A thread per Postfix connection (smtpd processes each keep one open)."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, address: tuple[str, int], ask: Asker) -> None:
        self.ask = ask
        super().__init__(address, PolicyHandler)


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"listen must be host:port, not {value!r}")
    return host.strip("[]"), int(port)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Convergence's Postfix policy service.")
    parser.add_argument("--config", default=os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
    parser.add_argument("--listen", default="", help=f"host:port (default {DEFAULT_LISTEN})")
    arguments = parser.parse_args(argv)
    try:
        config = read_config(arguments.config)
        address = parse_listen(arguments.listen or config.get("listen") or DEFAULT_LISTEN)
    except (OSError, ValueError) as error:
        log(f"cannot start: {error}")
        return 2
    with PolicyServer(address, Portal(config)) as server:
        log(f"listening on {address[0]}:{server.server_address[1]}")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
