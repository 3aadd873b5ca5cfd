"""The portal's one adapter to the académie's ManageSieve server (RFC 5804), on sievelib.

The person's own webmail token logs in (``connections.token_for``, the same as IMAP), with
OAUTHBEARER or XOAUTH2 as ``MAIL_SASL_MECHANISM`` says; Dovecot's managesieve takes both.
sievelib is customised at this one seam (:class:`_Client`):

* every socket operation, the connection included, is bounded by ``MAIL_TIMEOUT_SECONDS``
  (sievelib's own ``connect`` has no connect timeout);
* the SASL exchange is driven here: sievelib's XOAUTH2 payload has a stray comma after the
  login, and on a refused token the server sends its error as a challenge that must be
  answered before the ``NO`` comes — sievelib would wait for the timeout instead.

A server that cannot be reached, times out or answers nonsense raises
:class:`connections.MailUnavailable` (the pages' branded 503); a refused token raises
:class:`connections.MailRefused`. A script the server refuses raises :class:`SieveRefused`
carrying the server's own reason.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import ssl
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from sievelib import managesieve as sievelib_client  # type: ignore[import-untyped]

from convergence.accounts.models import User
from convergence.mail import connections
from convergence.mail.connections import MailRefused, MailUnavailable

# The script the portal creates and activates when the person has none active.
DEFAULT_SCRIPT = "convergence"
# A server's reason is shown to the person: bounded.
MAX_REASON = 2000


class SieveRefused(Exception):
    """The server refused a script (CHECKSCRIPT or PUTSCRIPT): ``reason`` is its own words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


NETWORK_ERRORS = (OSError, socket.timeout, ssl.SSLError, EOFError, sievelib_client.Error)


class _Client(sievelib_client.Client):  # type: ignore[misc]
    """sievelib's client with a bounded connection and a token login (see the module)."""

    def open(self, *, timeout: float, security: str) -> None:
        self.sock = socket.create_connection((self.srvaddr, self.srvport), timeout=timeout)
        self.sock.settimeout(timeout)
        if security == "tls":
            self._Client__enable_ssl()
        if not self._Client__get_capabilities():
            raise sievelib_client.Error("no capabilities")
        if security == "starttls" and not self._Client__starttls():
            raise sievelib_client.Error("STARTTLS refused")

    def token_login(self, mechanism: str, login: str, token: str) -> bool:
        if mechanism == "OAUTHBEARER":
            payload = f"n,a={login},\x01auth=Bearer {token}\x01\x01"
        else:
            mechanism = "XOAUTH2"
            payload = f"user={login}\x01auth=Bearer {token}\x01\x01"
        if mechanism not in self.get_sasl_mechanisms():
            raise sievelib_client.Error(f"{mechanism} not offered")
        encoded = base64.b64encode(payload.encode()).decode()
        self.sock.sendall(f'AUTHENTICATE "{mechanism}" "{encoded}"\r\n'.encode())
        try:
            self._Client__read_line()
        except sievelib_client.Response as answer:
            self.authenticated = answer.code == b"OK"
            return bool(self.authenticated)
        # A challenge: the token was refused. Answer it (RFC 7628: %x01) to get the NO.
        self.sock.sendall(b'"' + base64.b64encode(b"\x01") + b'"\r\n')
        with contextlib.suppress(sievelib_client.Response):
            self._Client__read_response()
        return False

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
            self.sock = None  # type: ignore[assignment]


def _reason(client: Any) -> str:
    raw = client.errmsg or b""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return text.strip()[:MAX_REASON]


@contextmanager
def session(user: User) -> Iterator[_Client]:
    """A logged-in ManageSieve connection of ``user`` for one piece of work (closed after)."""
    token, _expires = connections.token_for(user)
    client = _Client(settings.MAIL_SIEVE_HOST, settings.MAIL_SIEVE_PORT)
    try:
        try:
            client.open(
                timeout=settings.MAIL_TIMEOUT_SECONDS,
                security=settings.MAIL_SIEVE_SECURITY,
            )
            logged_in = client.token_login(settings.MAIL_SASL_MECHANISM.upper(), user.login, token)
        except NETWORK_ERRORS as error:
            raise MailUnavailable(f"managesieve: {error}") from error
        if not logged_in:
            connections.forget_token(user.pk)
            raise MailRefused(f"managesieve refused the token: {_reason(client)}")
        try:
            yield client
        except NETWORK_ERRORS as error:
            raise MailUnavailable(f"managesieve: {error}") from error
        with contextlib.suppress(*NETWORK_ERRORS):
            client.logout()
    finally:
        client.close()


@dataclass(frozen=True)
class ActiveScript:
    """The person's active script: its name (``None`` when none is active) and its text."""

    name: str | None
    text: str


def _get(client: _Client, name: str) -> str:
    try:
        text = client.getscript(name)
    except IndexError:  # sievelib on an empty script
        return ""
    if text is None:
        raise MailUnavailable(f"managesieve: GETSCRIPT {name!r}: {_reason(client)}")
    return str(text)


def read_active(user: User) -> ActiveScript:
    """The person's active script (one round trip for the list, one for the text)."""
    with session(user) as client:
        return _read_active(client)


def _read_active(client: _Client) -> ActiveScript:
    listing = client.listscripts()
    if listing is None:
        raise MailUnavailable(f"managesieve: LISTSCRIPTS: {_reason(client)}")
    active, _others = listing
    if not active:
        return ActiveScript(name=None, text="")
    return ActiveScript(name=str(active), text=_get(client, str(active)))


def write_active(user: User, *, name: str | None, text: str) -> str:
    """Check, store and activate ``text`` as the script ``name`` (``DEFAULT_SCRIPT`` when the
    person had none active). The server checks first: a refused script changes nothing and
    raises :class:`SieveRefused` with its reason. Returns the script's name."""
    name = name or DEFAULT_SCRIPT
    with session(user) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if "VERSION" in client._Client__capabilities and not client.checkscript(text):
                raise SieveRefused(_reason(client))
        if not client.putscript(name, text):
            raise SieveRefused(_reason(client))
        active = client.listscripts()
        if (active is None or active[0] != name) and not client.setactive(name):
            raise SieveRefused(_reason(client))
    return name
