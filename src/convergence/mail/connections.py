"""The webmail's one adapter to the académie's IMAP server, and its connection pool.

Every call to the server goes through :func:`mailbox`: it lends the person's own
authenticated connection (logged in with their OAuth access token over XOAUTH2 or
OAUTHBEARER) and takes it back afterwards, so the next page of the same person reuses it
instead of paying for TCP, TLS and the login again.

The pool, one per process:

* connections are **never shared between people**: each is keyed by the person's id;
* at most ``MAIL_POOL_MAX_PER_PERSON`` per person (a page and its deferred widget may ask at
  once: the second waits for the first, at most ``MAIL_TIMEOUT_SECONDS``) and
  ``MAIL_POOL_MAX_CONNECTIONS`` per process (past it, the longest idle connection of someone
  else is closed; when none is idle the server is "busy" for this page);
* a connection idle for ``MAIL_POOL_IDLE_SECONDS`` is closed, so is one whose token is about
  to expire, and every connection of a person who signs out, is suspended or resets their
  password;
* every socket operation has ``MAIL_TIMEOUT_SECONDS``; any network or protocol error closes
  that connection and raises :class:`MailUnavailable`, which pages show as « Messagerie
  momentanément indisponible » — never a 500, and never counted as a sign-in failure.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import imapclient
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from imapclient.exceptions import IMAPClientError, LoginError

from convergence.accounts.models import User
from convergence.sso import actions as sso_actions

logger = logging.getLogger(__name__)

# A token is renewed this long before it ends (a connection opened with it stays usable).
TOKEN_MARGIN = datetime.timedelta(minutes=5)


class MailUnavailable(Exception):
    """The mail server cannot be reached, did not answer in time, or answered nonsense."""


class MailRefused(MailUnavailable):
    """The mail server refused the person's token (not a sign-in failure of the portal)."""


@dataclass
class _Connection:
    client: imapclient.IMAPClient
    user_pk: int
    opened: float
    last_used: float
    token_expires: datetime.datetime
    capabilities: frozenset[str] = frozenset()
    selected: tuple[str, bool] | None = None  # (folder, read-only)


@dataclass
class _Pool:
    lock: threading.Condition = field(default_factory=threading.Condition)
    idle: dict[int, list[_Connection]] = field(default_factory=dict)
    busy: dict[int, int] = field(default_factory=dict)
    tokens: dict[int, tuple[str, datetime.datetime]] = field(default_factory=dict)

    def count(self) -> int:
        return sum(self.busy.values()) + sum(len(entries) for entries in self.idle.values())

    def held_by(self, user_pk: int) -> int:
        return self.busy.get(user_pk, 0) + len(self.idle.get(user_pk, ()))


_POOL = _Pool()
_MINT_LOCK = threading.Lock()


def _close(connections: list[_Connection]) -> None:
    """Close sockets without a LOGOUT round trip (never blocks on a hung server)."""
    for connection in connections:
        with contextlib.suppress(OSError, IMAPClientError):  # already closed
            connection.client.shutdown()


def _expired(connection: _Connection, now: float) -> bool:
    return (
        now - connection.last_used > settings.MAIL_POOL_IDLE_SECONDS
        or connection.token_expires - TOKEN_MARGIN <= timezone.now()
    )


def _reap_locked(now: float) -> list[_Connection]:
    """Take out every idle connection past its time (the caller closes them, unlocked)."""
    stale: list[_Connection] = []
    for user_pk in list(_POOL.idle):
        entries = _POOL.idle[user_pk]
        keep = [entry for entry in entries if not _expired(entry, now)]
        stale.extend(entry for entry in entries if _expired(entry, now))
        if keep:
            _POOL.idle[user_pk] = keep
        else:
            del _POOL.idle[user_pk]
    return stale


def _evict_one_locked(except_pk: int) -> _Connection | None:
    """The longest idle connection of someone else, taken out of the pool."""
    oldest: _Connection | None = None
    for user_pk, entries in _POOL.idle.items():
        if user_pk == except_pk:
            continue
        for entry in entries:
            if oldest is None or entry.last_used < oldest.last_used:
                oldest = entry
    if oldest is not None:
        _POOL.idle[oldest.user_pk].remove(oldest)
        if not _POOL.idle[oldest.user_pk]:
            del _POOL.idle[oldest.user_pk]
    return oldest


def _take(user: User) -> _Connection | None:
    """An idle connection of ``user`` (marked busy), or ``None`` with a place reserved for a
    new one. Raises :class:`MailUnavailable` when no place frees up in time."""
    deadline = time.monotonic() + settings.MAIL_TIMEOUT_SECONDS
    to_close: list[_Connection] = []
    try:
        with _POOL.lock:
            while True:
                now = time.monotonic()
                to_close.extend(_reap_locked(time.time()))
                entries = _POOL.idle.get(user.pk)
                if entries:
                    connection = entries.pop()
                    if not entries:
                        del _POOL.idle[user.pk]
                    _POOL.busy[user.pk] = _POOL.busy.get(user.pk, 0) + 1
                    return connection
                if _POOL.held_by(user.pk) < settings.MAIL_POOL_MAX_PER_PERSON:
                    if _POOL.count() >= settings.MAIL_POOL_MAX_CONNECTIONS:
                        evicted = _evict_one_locked(user.pk)
                        if evicted is not None:
                            to_close.append(evicted)
                    if _POOL.count() < settings.MAIL_POOL_MAX_CONNECTIONS:
                        _POOL.busy[user.pk] = _POOL.busy.get(user.pk, 0) + 1
                        return None
                if now >= deadline:
                    raise MailUnavailable("pool exhausted")
                _POOL.lock.wait(timeout=deadline - now)
    finally:
        _close(to_close)


def _give_back(connection: _Connection | None, user_pk: int, *, reusable: bool) -> None:
    to_close: list[_Connection] = []
    with _POOL.lock:
        _POOL.busy[user_pk] = _POOL.busy.get(user_pk, 1) - 1
        if _POOL.busy[user_pk] <= 0:
            del _POOL.busy[user_pk]
        if connection is not None:
            if reusable:
                connection.last_used = time.time()
                _POOL.idle.setdefault(user_pk, []).append(connection)
            else:
                to_close.append(connection)
        _POOL.lock.notify_all()
    _close(to_close)


def token_for(user: User) -> tuple[str, datetime.datetime]:
    """The person's webmail token in this process (IMAP and submission), renewed before it
    ends; a new one is minted only when needed (one INSERT)."""
    with _POOL.lock:
        known = _POOL.tokens.get(user.pk)
    if known is not None and known[1] - TOKEN_MARGIN > timezone.now():
        return known
    # A page, its deferred widget and the header's badge often ask at once: one mints.
    with _MINT_LOCK:
        with _POOL.lock:
            known = _POOL.tokens.get(user.pk)
        if known is not None and known[1] - TOKEN_MARGIN > timezone.now():
            return known
        try:
            issued = sso_actions.issue_first_party_token(
                user=user,
                client_id=settings.MAIL_WEBMAIL_CLIENT_ID,
                name="Messagerie",
                scope="mail",
                seconds=settings.MAIL_TOKEN_SECONDS,
            )
        except DatabaseError as error:
            # No token, no login: the mail pages say so, as when the server is down.
            raise MailUnavailable(f"token: {error}") from error
        with _POOL.lock:
            _POOL.tokens[user.pk] = issued
    return issued


def _sasl_login(client: imapclient.IMAPClient, mechanism: str, login: str, token: str) -> None:
    """AUTHENTICATE with the token (RFC 7628 OAUTHBEARER, or XOAUTH2).

    A refused token gets an error challenge, which the client must answer with an empty line
    to receive the NO: imapclient's own methods answer it with the token again and wait until
    the timeout, so a refusal would cost the whole timeout instead of one round trip."""
    if mechanism == "OAUTHBEARER":
        payload = f"n,a={login},\x01auth=Bearer {token}\x01\x01"
    else:
        mechanism = "XOAUTH2"
        payload = f"user={login}\x01auth=Bearer {token}\x01\x01"
    answered = False

    def answer(challenge: bytes) -> bytes:
        nonlocal answered
        if answered:
            return b""
        answered = True
        return payload.encode()

    try:
        client._imap.authenticate(mechanism, answer)
    except client._imap.error as error:
        raise LoginError(str(error)) from error


def _open(user: User) -> _Connection:
    token, expires = token_for(user)
    security = settings.MAIL_IMAP_SECURITY
    timeout = imapclient.SocketTimeout(
        connect=settings.MAIL_TIMEOUT_SECONDS, read=settings.MAIL_TIMEOUT_SECONDS
    )
    context = ssl.create_default_context() if security in ("tls", "starttls") else None
    client = imapclient.IMAPClient(
        settings.MAIL_IMAP_HOST,
        port=settings.MAIL_IMAP_PORT,
        ssl=security == "tls",
        ssl_context=context,
        timeout=timeout,
    )
    try:
        if security == "starttls":
            client.starttls(context)
        _sasl_login(client, settings.MAIL_SASL_MECHANISM.upper(), user.login, token)
        capabilities = frozenset(
            item.decode().upper() if isinstance(item, bytes) else str(item).upper()
            for item in client.capabilities()
        )
    except LoginError as error:
        _close([_Connection(client, user.pk, 0, 0, expires)])
        with _POOL.lock:  # a refused token is never tried again
            _POOL.tokens.pop(user.pk, None)
        raise MailRefused(str(error)) from error
    except BaseException:
        _close([_Connection(client, user.pk, 0, 0, expires)])
        raise
    now = time.time()
    return _Connection(client, user.pk, now, now, expires, capabilities)


NETWORK_ERRORS = (OSError, socket.timeout, IMAPClientError, EOFError, ssl.SSLError)
# A connection idle longer than this is checked (NOOP) before it is lent.
NOOP_AFTER_SECONDS = 20


@contextmanager
def session(user: User) -> Iterator[_Connection]:
    """The person's connection for one request's work (see the module's docstring)."""
    connection = _take(user)
    reusable = False
    try:
        if connection is None:
            try:
                connection = _open(user)
            except NETWORK_ERRORS as error:
                raise MailUnavailable(str(error)) from error
        elif time.time() - connection.last_used > NOOP_AFTER_SECONDS:
            # The server may have closed a connection that waited: ask once, reopen if so.
            try:
                connection.client.noop()
            except NETWORK_ERRORS:
                _close([connection])
                connection = None
                try:
                    connection = _open(user)
                except NETWORK_ERRORS as error:
                    raise MailUnavailable(str(error)) from error
        try:
            yield connection
        except NETWORK_ERRORS as error:
            raise MailUnavailable(str(error)) from error
        reusable = True
    finally:
        _give_back(connection, user.pk, reusable=reusable)


def forget_token(user_pk: int) -> None:
    """Drop the token this process knows for a person (the server refused it)."""
    with _POOL.lock:
        _POOL.tokens.pop(user_pk, None)


def forget(user_pk: int) -> None:
    """Close every idle connection of a person and drop their token from this process (their
    account was suspended, their password reset). Busy ones close when given back."""
    with _POOL.lock:
        stale = _POOL.idle.pop(user_pk, [])
        _POOL.tokens.pop(user_pk, None)
    _close(stale)


def sign_out(user: User) -> None:
    """The person signed out of the portal: their webmail tokens end with the session."""
    forget(user.pk)
    sso_actions.revoke_first_party_tokens(user=user, client_id=settings.MAIL_WEBMAIL_CLIENT_ID)


def reset() -> None:
    """Close everything (tests, and a worker process after fork)."""
    with _POOL.lock:
        stale = [entry for entries in _POOL.idle.values() for entry in entries]
        _POOL.idle.clear()
        _POOL.tokens.clear()
    _close(stale)


def stats() -> dict[str, Any]:
    with _POOL.lock:
        return {
            "idle": sum(len(entries) for entries in _POOL.idle.values()),
            "busy": sum(_POOL.busy.values()),
            "people": len(set(_POOL.idle) | set(_POOL.busy)),
        }
