#!/usr/bin/python3
"""Dovecot's checkpassword program for app passwords: asks the portal at every login.

Dovecot runs it for each PLAIN/LOGIN authentication (passdb 2 of deploy/mail/dovecot/), with
``login NUL password NUL`` on file descriptor 3 and the path of ``checkpassword-reply`` as
its first argument. The program POSTs the login, the password, the protocol and the client's
address to ``{portal}/messagerie/serveur/authentification/`` as the académie's mail server
(HTTP Basic with the ``server_clients:`` credentials), and on a 200 hands over to
``checkpassword-reply`` with ``USER`` set to the login the portal names.

It fails closed: any other answer, a portal that does not answer within the timeout, a
missing or unreadable configuration file, all refuse the login. Exit statuses are Dovecot's:
1 refused, 111 temporary failure (the portal could not be asked).

Standard library only, so that it runs with the system's ``/usr/bin/python3`` and nothing
to install on the mail server. Its configuration (see ``dovecot/checkpassword.conf``) is a
file only root and Dovecot can read; its path is in ``CONVERGENCE_CHECKPASSWORD_CONFIG``.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

CONFIG_ENV = "CONVERGENCE_CHECKPASSWORD_CONFIG"
DEFAULT_CONFIG = "/etc/dovecot/convergence/checkpassword.conf"
ENDPOINT = "/messagerie/serveur/authentification/"
REFUSED = 1
TEMPORARY_FAILURE = 111
# Dovecot never sends more than 512 bytes on descriptor 3.
MAX_INPUT = 512
# Dovecot's service name (SERVICE) → the protocol the portal knows. Postfix asks Dovecot's
# auth socket for SMTP submission with the service "smtp"; anything else is refused.
PROTOCOLS = {"imap": "imap", "sieve": "sieve", "smtp": "smtp", "submission": "smtp"}


def log(message: str) -> None:
    """One line in Dovecot's log (stderr is logged as the auth process's error)."""
    sys.stderr.write(f"convergence-checkpassword: {message}\n")
    sys.stderr.flush()


def read_config(path: str) -> dict[str, str]:
    """``key = value`` lines; the three keys are required."""
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


def read_credentials() -> tuple[str, str]:
    """The login and password Dovecot wrote on descriptor 3."""
    data = b""
    with os.fdopen(3, "rb") as channel:
        while len(data) < MAX_INPUT:
            chunk = channel.read(MAX_INPUT - len(data))
            if not chunk:
                break
            data += chunk
    parts = data.split(b"\0")
    if len(parts) < 2:
        raise ValueError("malformed input on descriptor 3")
    return parts[0].decode("utf-8"), parts[1].decode("utf-8")


def ask_portal(
    config: dict[str, str], *, login: str, password: str, protocol: str, remote_ip: str
) -> str | None:
    """The login the portal accepts, or ``None`` when it refuses. Raises ``OSError`` when
    the portal cannot be asked (unreachable, timeout, unexpected answer)."""
    body = urllib.parse.urlencode(
        {"login": login, "password": password, "protocol": protocol, "remote_ip": remote_ip}
    ).encode()
    secret = f"{config['client_id']}:{config['client_secret']}".encode()
    request = urllib.request.Request(  # noqa: S310 - the configured portal address
        config["portal_url"].rstrip("/") + ENDPOINT,
        data=body,
        method="POST",
        headers={
            "Authorization": "Basic " + base64.b64encode(secret).decode("ascii"),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
    )
    timeout = float(config.get("timeout_seconds", "5"))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = json.loads(response.read(4096))
    except urllib.error.HTTPError as error:
        if error.code == 403:
            return None
        raise OSError(f"the portal answered {error.code}") from error
    except ValueError as error:
        raise OSError("the portal's answer is not JSON") from error
    accepted = answer.get("login") if isinstance(answer, dict) else None
    if not isinstance(accepted, str) or not accepted or "\t" in accepted:
        raise OSError("the portal's answer names no login")
    return accepted


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        log("usage: checkpassword.py <checkpassword-reply> (run by Dovecot)")
        return 2
    if os.environ.get("AUTHORIZED") == "1":
        # A userdb lookup: the static userdb answers those, this program only checks passwords.
        log("userdb lookups are not supported")
        return REFUSED
    protocol = PROTOCOLS.get(os.environ.get("SERVICE", ""))
    try:
        login, password = read_credentials()
    except (OSError, ValueError) as error:
        log(f"cannot read the credentials: {error}")
        return REFUSED
    if protocol is None or not login or not password:
        return REFUSED
    try:
        config = read_config(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
    except (OSError, ValueError) as error:
        log(f"cannot read the configuration: {error}")
        return TEMPORARY_FAILURE
    try:
        accepted = ask_portal(
            config,
            login=login,
            password=password,
            protocol=protocol,
            remote_ip=os.environ.get("TCPREMOTEIP", ""),
        )
    except OSError as error:
        log(f"portal not asked, login of {login!r} refused: {error}")
        return TEMPORARY_FAILURE
    if accepted is None:
        return REFUSED
    os.environ["USER"] = accepted
    os.execv(argv[1], [argv[1]])  # noqa: S606 - Dovecot's checkpassword-reply, by protocol
    return TEMPORARY_FAILURE  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main(sys.argv))
