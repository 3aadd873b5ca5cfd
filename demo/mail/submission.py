"""SMTP submission for the demo (aiosmtpd): authenticated people only, nothing ever leaves.

AUTH PLAIN / LOGIN (an app password) or XOAUTH2 / OAUTHBEARER (an access token), checked at
the portal like IMAP (:mod:`demo.mail.auth`). Without authentication, MAIL FROM is refused, so
the server relays nothing for anyone. A recipient of the académie (``prenom.nom@domain`` of a
person, or ``login@domain``) gets the message in their INBOX; any other recipient's copy is
filed in the catch-all maildir, never sent out. Before each message the portal's sending
limits are asked (``/messagerie/serveur/envoi/``), as Postfix's policy service asks them.
"""

from __future__ import annotations

import asyncio
import binascii
import email.utils
import logging
import mailbox
import unicodedata
import warnings
import weakref
from base64 import b64decode
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from demo.mail.auth import (
    AppPassword,
    Bearer,
    Offer,
    PortalChecker,
    parse_oauthbearer,
    parse_xoauth2,
)
from demo.mail.delivery import Delivery, portal_notifier
from demo.mail.imap import LOGIN_SHAPE
from demo.web import TimeoutSession

logger = logging.getLogger(__name__)

# Not a login (logins start with a letter or digit): never someone's mailbox.
CATCH_ALL = "_catch-all"
MAX_MESSAGE_BYTES = 25 * 1024 * 1024
# The sending limits: asked before each message, as Postfix's policy service asks.
SENDING_PATH = "/messagerie/serveur/envoi/"
SENDING_UNAVAILABLE = "451 4.7.1 Limites d'envoi momentanement inverifiables, reessayez plus tard"

# Resolves an address of the académie to the login it belongs to, or None (blocking: database).
Directory = Callable[[str], "str | None"]


def database_directory(domain: str) -> Directory:
    """Addresses of the académie, looked up in the portal's database: a person's address
    (``prenom.nom@domain``) or ``login@domain``."""

    def resolve(address: str) -> str | None:
        from django.db import close_old_connections
        from django.db.models import Q

        from convergence.accounts.models import User

        local, _, host = address.strip().lower().rpartition("@")
        if host != domain.lower() or not local:
            return None
        close_old_connections()
        user = (
            User.objects.filter(Q(email__iexact=address.strip()) | Q(login=local))
            .only("login")
            .first()
        )
        return user.login if user is not None else None

    return resolve


class SubmissionHandler:
    """aiosmtpd handler: the AUTH mechanisms and the local delivery."""

    def __init__(self, *, base_dir: Path, checker: PortalChecker, directory: Directory) -> None:
        self.base_dir = base_dir
        self.checker = checker
        self.directory = directory
        # Sessions opened with a token (the webmail, which counted its recipients itself).
        self.bearer_sessions: weakref.WeakSet[Session] = weakref.WeakSet()

    # --- authentication (aiosmtpd picks handler methods named auth_<MECHANISM>) ---

    async def _check(self, server: SMTP, offer: Offer | None) -> AuthResult:
        if offer is None:
            return AuthResult(success=False, handled=False)
        peer = server.session.peer if server.session is not None else None
        remote_ip = str(peer[0]) if isinstance(peer, tuple) else ""
        login = await self.checker.check(offer, protocol="smtp", remote_ip=remote_ip)
        if login is None:
            return AuthResult(success=False, handled=False)
        if isinstance(offer, Bearer) and server.session is not None:
            self.bearer_sessions.add(server.session)
        return AuthResult(success=True, auth_data=login)

    async def _initial(self, server: SMTP, args: list[str]) -> bytes | None:
        """The initial response of ``AUTH <mech> [<base64>]``, asked for when absent."""
        if len(args) > 1:
            try:
                return b64decode(args[1], validate=True)
            except (binascii.Error, ValueError):
                return None
        answer = await server.challenge_auth("")
        return answer if isinstance(answer, bytes) else None

    async def auth_PLAIN(self, server: SMTP, args: list[str]) -> AuthResult:
        response = await self._initial(server, args)
        if response is None:
            return AuthResult(success=False, handled=False)
        parts = response.split(b"\x00")
        if len(parts) != 3 or (parts[0] and parts[0] != parts[1]):
            return AuthResult(success=False, handled=False)
        offer = AppPassword(
            parts[1].decode("utf-8", "replace"), parts[2].decode("utf-8", "replace")
        )
        return await self._check(server, offer)

    async def auth_LOGIN(self, server: SMTP, args: list[str]) -> AuthResult:
        if len(args) > 1:
            try:
                login: Any = b64decode(args[1], validate=True)
            except (binascii.Error, ValueError):
                return AuthResult(success=False, handled=False)
        else:
            login = await server.challenge_auth(server.AuthLoginUsernameChallenge)
        password = await server.challenge_auth(server.AuthLoginPasswordChallenge)
        if not isinstance(login, bytes) or not isinstance(password, bytes):
            return AuthResult(success=False, handled=False)
        offer = AppPassword(login.decode("utf-8", "replace"), password.decode("utf-8", "replace"))
        return await self._check(server, offer)

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        response = await self._initial(server, args)
        bearer: Bearer | None = parse_xoauth2(response) if response is not None else None
        return await self._check(server, bearer)

    async def auth_OAUTHBEARER(self, server: SMTP, args: list[str]) -> AuthResult:
        response = await self._initial(server, args)
        bearer = parse_oauthbearer(response) if response is not None else None
        return await self._check(server, bearer)

    # --- delivery ---

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        content = envelope.original_content or b""
        loop = asyncio.get_running_loop()
        refusal = await loop.run_in_executor(
            None,
            self._sending_refusal,
            str(session.auth_data),
            session in self.bearer_sessions,
            len(envelope.rcpt_tos),
        )
        if refusal is not None:
            return refusal
        targets = await loop.run_in_executor(None, self._targets, list(envelope.rcpt_tos))
        sender = str(session.auth_data)
        received = (
            f"Received: from {session.host_name or 'inconnu'} by demo-convergence "
            f"(authentifié : {sender}); {email.utils.formatdate(localtime=True)}\r\n"
        ).encode()
        for target in sorted(set(targets)):
            await loop.run_in_executor(
                None, self._deliver, target, received + content, envelope.mail_from or ""
            )
        logger.info("Message de %s distribué à %s.", sender, ", ".join(sorted(set(targets))))
        return "250 2.0.0 Message accepted for delivery"

    def _sending_refusal(self, login: str, bearer: bool, recipients: int) -> str | None:
        """Ask the portal's sending limits, as Postfix's policy service does (blocking):
        ``None`` when the message may go, else the SMTP reply. Fails closed: no answer is
        « try later »."""
        try:
            with TimeoutSession(self.checker.timeout) as http:
                response = http.post(
                    f"{self.checker.portal}{SENDING_PATH}",
                    data={
                        "login": login,
                        "recipients": str(recipients),
                        "sasl_method": "XOAUTH2" if bearer else "PLAIN",
                    },
                    auth=self.checker.auth,
                )
            answer: Any = response.json() if response.status_code == 200 else None
        except (requests.RequestException, ValueError) as error:
            logger.warning("Limites d'envoi non vérifiées (%s) : message différé.", error)
            return SENDING_UNAVAILABLE
        if not isinstance(answer, dict) or answer.get("action") not in {"allow", "refuse"}:
            return SENDING_UNAVAILABLE
        if answer["action"] == "allow":
            return None
        decomposed = unicodedata.normalize("NFKD", str(answer.get("text") or "Envoi refuse"))
        text = "".join(ch for ch in decomposed if 32 <= ord(ch) < 127)[:200]
        return f"451 4.7.1 {text}" if answer.get("temporary") else f"550 5.7.1 {text}"

    def _targets(self, recipients: list[str]) -> list[str]:
        targets = []
        for address in recipients:
            login = self.directory(address)
            targets.append(login if login and LOGIN_SHAPE.match(login) else CATCH_ALL)
        return targets

    def _deliver(self, target: str, content: bytes, envelope_sender: str = "") -> None:
        """Into the catch-all as it is; into a person's mailbox after their active Sieve
        script (rules, vacation reply, notifications: :mod:`demo.mail.delivery`)."""
        if target == CATCH_ALL:
            inbox = mailbox.Maildir(self.base_dir / target, create=True)
            message = mailbox.MaildirMessage(content)
            message.set_subdir("new")
            inbox.add(message)
            return
        delivery = Delivery(
            base_dir=self.base_dir,
            directory=self.directory,
            notifier=portal_notifier(self.checker),
        )
        delivery.deliver(target, content, envelope_sender=envelope_sender)


async def start_submission(
    handler: SubmissionHandler, *, host: str, port: int
) -> asyncio.AbstractServer:
    """A submission server on ``host:port`` (0: any free port); AUTH without TLS is allowed
    because the demo listens on the loopback only."""
    loop = asyncio.get_running_loop()

    def factory() -> SMTP:
        with warnings.catch_warnings():
            # aiosmtpd warns that AUTH without TLS is unsafe: here it is the loopback only.
            warnings.simplefilter("ignore", UserWarning)
            return _smtp()

    def _smtp() -> SMTP:
        return SMTP(
            handler,
            hostname="demo-convergence",
            ident="Convergence demo submission",
            data_size_limit=MAX_MESSAGE_BYTES,
            auth_required=True,
            auth_require_tls=False,
            auth_exclude_mechanism=["CRAM-MD5"],
            loop=loop,
        )

    return await loop.create_server(factory, host=host, port=port)
