"""IMAP and ManageSieve for the demo: pymap's maildir backend, with people checked at the portal.

pymap is customised at one seam, its login (``LoginInterface``): credentials go to the portal
(:mod:`demo.mail.auth`) instead of pymap's own password files, and the mailbox of a login is
simply ``<base_dir>/<login>`` (Maildir++, folders ``.Sent``, ``.Trash``…).
"""

from __future__ import annotations

import asyncio
import re
from argparse import Namespace
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from proxyprotocol.reader import ProxyProtocolReader
from pymap.backend.maildir import Config as MaildirConfig
from pymap.backend.maildir import Identity as MaildirIdentity
from pymap.backend.maildir import Session
from pymap.backend.maildir.mailbox import MailboxSet
from pymap.context import socket_info
from pymap.exceptions import AuthorizationFailure, InvalidAuth
from pymap.imap import IMAPServer
from pymap.interfaces.login import IdentityInterface, LoginInterface
from pymap.token import AllTokens
from pysasl import SASLAuth
from pysasl.creds.external import ExternalCredentials, ExternalVerificationRequired
from pysasl.creds.plain import PlainCredentials
from pysasl.creds.server import ServerCredentials

from demo.mail.auth import AppPassword, Bearer, BearerMechanism, PortalChecker, Protocol
from demo.mail.sieve import NamedFilterSet

# The shape of a portal login (accounts.User's constraint): never a path outside base_dir.
LOGIN_SHAPE = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")


class DemoConfig(MaildirConfig):
    """pymap's maildir settings for the demo: loopback, no TLS, the portal's SASL mechanisms."""

    def __init__(self, *, base_dir: Path, host: str, port: int) -> None:
        args = Namespace(passlib_cfg=None, proxy_protocol=None, inherited_sockets=None, debug=False)
        super().__init__(
            args,
            host=host,
            port=port,
            base_dir=str(base_dir),
            layout="++",
            colon=None,
            tls_enabled=False,
            reject_dnsbl=False,
            invalid_user_sleep=0.0,
        )

    @property
    def tls_auth(self) -> SASLAuth:
        builtin = SASLAuth.named([b"PLAIN", b"LOGIN"]).server_mechanisms
        return SASLAuth([BearerMechanism("XOAUTH2"), BearerMechanism("OAUTHBEARER"), *builtin])

    @property
    def greeting(self) -> bytes:
        return b"Serveur IMAP de demonstration Convergence"


class _SecretCapture:
    """A pysasl identity that keeps the secret offered, so that the portal, not pymap,
    compares it (pysasl gives a PLAIN secret only to an identity)."""

    def __init__(self) -> None:
        self.secret = ""

    @property
    def authcid(self) -> str:
        return ""

    def compare_authcid(self, authcid: str) -> bool:
        return True

    def compare_secret(self, secret: str) -> bool:
        self.secret = secret
        return True

    def get_clear_secret(self) -> str | None:
        return None


def offer_of(credentials: ServerCredentials) -> Bearer | AppPassword | None:
    """What a pysasl credential offers: a bearer token or an app password."""
    if isinstance(credentials, ExternalCredentials):
        try:
            credentials.verify(None)
        except ExternalVerificationRequired as required:
            return Bearer(credentials.authzid, required.token or "")
        return None
    if isinstance(credentials, PlainCredentials):
        if credentials.authzid != credentials.authcid:
            return None  # acting as someone else: never in the demo
        capture = _SecretCapture()
        credentials.verify(capture)
        return AppPassword(credentials.authcid, capture.secret)
    return None


def _remote_ip() -> str:
    try:
        address = socket_info.get().peername_ip
    except LookupError:
        return ""
    return str(address) if address is not None else ""


class DemoIdentity(MaildirIdentity):
    """A person the portal vouched for; their mailbox is ``<base_dir>/<login>``."""

    @asynccontextmanager
    async def new_session(self) -> AsyncIterator[Session]:
        maildir, layout = self._load_maildir(self.name)
        filters: Any = NamedFilterSet(layout.path)
        yield Session(self.name, self.config, MailboxSet(maildir, layout), filters)


class PortalLogin(LoginInterface):
    """pymap's login, answered by the portal."""

    def __init__(self, config: DemoConfig, checker: PortalChecker, protocol: Protocol) -> None:
        self.config = config
        self.checker = checker
        self.protocol = protocol
        self._tokens = AllTokens(config)

    @property
    def tokens(self) -> AllTokens:
        return self._tokens

    async def authenticate(self, credentials: ServerCredentials) -> IdentityInterface:
        offer = offer_of(credentials)
        if offer is None:
            raise InvalidAuth()
        login = await self.checker.check(offer, protocol=self.protocol, remote_ip=_remote_ip())
        if login is None or not LOGIN_SHAPE.match(login):
            raise InvalidAuth()
        return DemoIdentity(self.config, self.tokens, login, None, frozenset())

    async def authorize(self, authenticated: IdentityInterface, authzid: str) -> IdentityInterface:
        if authzid and authzid.lower() != authenticated.name:
            raise AuthorizationFailure()
        return authenticated


async def start_imap(
    config: DemoConfig, checker: PortalChecker, *, host: str, port: int
) -> asyncio.Server:
    """An IMAP server listening on ``host:port`` (0: any free port), not yet serving forever."""
    login = PortalLogin(config, checker, "imap")
    callback: Any = ProxyProtocolReader(config.proxy_protocol).get_callback(
        IMAPServer(login, config)
    )
    return await asyncio.start_server(callback, host=host, port=port)


async def start_managesieve(
    config: DemoConfig, checker: PortalChecker, *, host: str, port: int
) -> asyncio.Server:
    """A ManageSieve server (RFC 5804) over the same maildirs: named sieve scripts in each
    person's maildir, the active one linked as ``dovecot.sieve`` (:mod:`demo.mail.sieve`)."""
    from pymap.sieve.manage import ManageSieveServer

    login = PortalLogin(config, checker, "sieve")
    callback: Any = ProxyProtocolReader(config.proxy_protocol).get_callback(
        ManageSieveServer(login, config)
    )
    return await asyncio.start_server(callback, host=host, port=port)
