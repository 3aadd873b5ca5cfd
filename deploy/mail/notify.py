#!/usr/bin/python3
"""Pigeonhole's ``convergence-notify`` program: a rule said « me notifier », tell the portal.

A person's Sieve script (written by the webmail) runs ``execute :pipe "convergence-notify"``
at delivery; Pigeonhole's sieve_extprograms plugin runs this file from
``sieve_execute_bin_dir`` (deploy/mail/dovecot/conf.d/20-protocols.conf) with the message on
standard input and the environment it gives every program: ``USER`` (the login, as LMTP's
``auth_username_format`` made it), ``RECIPIENT`` (the envelope recipient), ``SENDER``,
``HOME``. The program reads the message's headers and POSTs the login, the sender, the
subject and the Message-ID to ``{portal}/messagerie/serveur/notification/`` as the académie's
mail server (HTTP Basic with the ``server_clients:`` credentials), bounded by the timeout.

It never fails the delivery: whatever happens (portal down, refused, over the person's limit,
a malformed message, no configuration) it logs one line on standard error, which Dovecot
writes to its log, and exits 0 — Pigeonhole would otherwise count a failed ``execute`` as a
run-time error of the script and skip the person's other rules.

Standard library only, like checkpassword.py. Its configuration (``notify.conf`` beside the
directory holding this program, or the file named by ``CONVERGENCE_NOTIFY_CONFIG``) holds the
server client's secret: a file only root and the mail user Dovecot delivers as can read
(Pigeonhole runs programs as that user, with a clean environment).
"""

from __future__ import annotations

import base64
import email
import email.policy
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import BinaryIO

CONFIG_ENV = "CONVERGENCE_NOTIFY_CONFIG"
CONFIG_NAME = "notify.conf"
DEFAULT_CONFIG = "/etc/dovecot/convergence/notify.conf"
ENDPOINT = "/messagerie/serveur/notification/"
# Headers end long before this; the rest of the message is read and dropped (Dovecot must be
# able to write it all, or it reports a broken pipe).
MAX_HEADER_BYTES = 256 * 1024
CHUNK = 64 * 1024
FIELD_LENGTH = 255
DEFAULT_TIMEOUT = 5.0


def log(message: str) -> None:
    sys.stderr.write(f"convergence-notify: {message}\n")
    sys.stderr.flush()


def config_path() -> Path:
    """``CONVERGENCE_NOTIFY_CONFIG``, else ``notify.conf`` one level above this program (the
    rendered configuration directory holds ``sieve-execute/`` and ``notify.conf``), else
    the production default."""
    named = os.environ.get(CONFIG_ENV)
    if named:
        return Path(named)
    beside = Path(__file__).resolve().parent.parent / CONFIG_NAME
    return beside if beside.exists() else Path(DEFAULT_CONFIG)


def read_config(path: Path) -> dict[str, str]:
    """``key = value`` lines; portal_url, client_id and client_secret are required."""
    config: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
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


def read_headers(stream: BinaryIO) -> bytes:
    """The message's header block (at most MAX_HEADER_BYTES); the rest is drained."""
    data = b""
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        if len(data) < MAX_HEADER_BYTES:
            data += chunk[: MAX_HEADER_BYTES - len(data)]
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = data.find(separator)
        if end != -1:
            return data[: end + len(separator)]
    return data


def _one_line(value: object) -> str:
    text = " ".join(str(value or "").split())
    return "".join(ch for ch in text if ch >= " " and ch != "\x7f")[:FIELD_LENGTH]


def summary(headers: bytes) -> dict[str, str]:
    """Sender, subject and Message-ID, decoded (RFC 2047) and on one line each."""
    message = email.message_from_bytes(headers, policy=email.policy.default)
    fields = {}
    for key, header in (("sender", "From"), ("subject", "Subject"), ("message_id", "Message-ID")):
        try:
            fields[key] = _one_line(message.get(header, ""))
        except Exception:  # a header the parser cannot decode: left out
            fields[key] = ""
    return fields


def login_from_environment() -> str:
    """The person: ``USER`` (Dovecot's login), else the envelope ``RECIPIENT``, which the
    portal also understands (``login@domain`` or the person's address)."""
    return (os.environ.get("USER") or os.environ.get("RECIPIENT") or "").strip()


def tell_portal(config: dict[str, str], fields: dict[str, str]) -> int:
    """POST to the portal; its HTTP status."""
    body = urllib.parse.urlencode(fields).encode()
    secret = f"{config['client_id']}:{config['client_secret']}".encode()
    request = urllib.request.Request(  # noqa: S310 - the configured portal address
        config["portal_url"].rstrip("/") + ENDPOINT,
        data=body,
        method="POST",
        headers={
            "Authorization": "Basic " + base64.b64encode(secret).decode("ascii"),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    timeout = float(config.get("timeout_seconds", DEFAULT_TIMEOUT))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def main() -> int:
    try:
        headers = read_headers(sys.stdin.buffer)
    except OSError as error:
        log(f"cannot read the message: {error}")
        return 0
    login = login_from_environment()
    if not login:
        log("no USER nor RECIPIENT in the environment: nobody to notify")
        return 0
    try:
        config = read_config(config_path())
    except (OSError, ValueError) as error:
        log(f"cannot read the configuration: {error}")
        return 0
    fields = {"login": login, **summary(headers)}
    try:
        status = tell_portal(config, fields)
    except (OSError, ValueError) as error:  # unreachable, timeout, bad URL
        log(f"portal not told of a message for {login!r}: {error}")
        return 0
    if status != 204:
        log(f"the portal answered {status} for a message for {login!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
