"""How the demo mail servers check a person: the same two HTTP calls a production Dovecot makes.

* an OAuth access token (SASL XOAUTH2 / OAUTHBEARER): RFC 7662 introspection at
  ``{portal}/oidc/introspect/``; valid when ``active`` is true and ``username`` is the login;
* an app password (SASL PLAIN / LOGIN): ``{portal}/messagerie/serveur/authentification/``;
  valid on a 200 whose ``login`` is the login.

Both authenticate the mail server itself with HTTP Basic (a ``server_clients:`` entry of the
blueprint). Every failure — timeout, refused connection, unexpected answer — refuses the
person: the check fails closed. Calls are blocking; the servers run them off their event loop
(:meth:`PortalChecker.check`).
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any, Literal

import requests
from pysasl.creds.external import ExternalCredentials
from pysasl.exception import InvalidResponse
from pysasl.mechanism import ChallengeResponse, ServerChallenge, ServerMechanism

from demo.web import TimeoutSession

logger = logging.getLogger(__name__)

# The demo's mail server client (the block the demo blueprint declares under server_clients:).
DEMO_CLIENT_ID = "messagerie-demo"
DEMO_CLIENT_SECRET = "k7Qm2VtR9xLw4ZpN8sHc3JfY6bDgE1aUoT5iXnWqKrMv"  # noqa: S105 (fixed for the demo)
CHECK_TIMEOUT_SECONDS = 5.0

INTROSPECTION_PATH = "/oidc/introspect/"
APP_PASSWORD_PATH = "/messagerie/serveur/authentification/"  # noqa: S105 (a path)

Protocol = Literal["imap", "smtp", "sieve"]


@dataclass(frozen=True)
class Bearer:
    """An access token offered for ``login`` (empty when the client named nobody)."""

    login: str
    token: str


@dataclass(frozen=True)
class AppPassword:
    """An app password offered for ``login``."""

    login: str
    password: str


Offer = Bearer | AppPassword


class PortalChecker:
    """Asks the portal whether an offer of credentials opens a mailbox, and whose."""

    def __init__(
        self,
        *,
        portal: str,
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        timeout: float = CHECK_TIMEOUT_SECONDS,
    ) -> None:
        self.portal = portal.rstrip("/")
        self.auth = (client_id, client_secret)
        self.timeout = timeout

    async def check(self, offer: Offer, *, protocol: Protocol, remote_ip: str = "") -> str | None:
        """The login the offer opens, or ``None``; the HTTP call runs in the loop's executor."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.check_blocking, offer, protocol, remote_ip)

    def check_blocking(self, offer: Offer, protocol: Protocol, remote_ip: str = "") -> str | None:
        try:
            if isinstance(offer, Bearer):
                return self._introspect(offer)
            return self._app_password(offer, protocol, remote_ip)
        except (requests.RequestException, ValueError) as error:
            logger.warning("Vérification auprès du portail impossible (%s) : refusé.", error)
            return None

    def _post(self, path: str, data: dict[str, str]) -> requests.Response:
        with TimeoutSession(self.timeout) as session:
            return session.post(f"{self.portal}{path}", data=data, auth=self.auth)

    def _introspect(self, offer: Bearer) -> str | None:
        if not offer.token:
            return None
        response = self._post(INTROSPECTION_PATH, {"token": offer.token})
        if response.status_code != 200:
            logger.warning("Introspection refusée par le portail (HTTP %s).", response.status_code)
            return None
        answer: Any = response.json()
        # The webmail's tokens only, as Dovecot's username_attribute = mailbox: the portal
        # names the mailbox for tokens of scope "mail" alone, so a token a service of the
        # catalogue holds never opens it.
        if not isinstance(answer, dict) or answer.get("active") is not True:
            return None
        username = answer.get("mailbox")
        if not isinstance(username, str) or not username:
            return None
        if offer.login and offer.login.lower() != username.lower():
            return None
        return username

    def _app_password(self, offer: AppPassword, protocol: Protocol, remote_ip: str) -> str | None:
        if not offer.login or not offer.password:
            return None
        response = self._post(
            APP_PASSWORD_PATH,
            {
                "login": offer.login,
                "password": offer.password,
                "protocol": protocol,
                "remote_ip": remote_ip,
            },
        )
        if response.status_code != 200:
            if response.status_code != 403:
                logger.warning(
                    "Mot de passe d'application : réponse inattendue du portail (HTTP %s).",
                    response.status_code,
                )
            return None
        answer: Any = response.json()
        login = answer.get("login") if isinstance(answer, dict) else None
        if not isinstance(login, str) or login.lower() != offer.login.lower():
            return None
        return login


# --- SASL ------------------------------------------------------------------------------------

_XOAUTH2 = re.compile(
    rb"^user=(?P<user>[^\x01]*)\x01auth=Bearer (?P<token>[^\x01]*)\x01\x01$", re.I
)


def parse_xoauth2(response: bytes) -> Bearer | None:
    """``user=<login>^Aauth=Bearer <token>^A^A`` (Google's XOAUTH2)."""
    match = _XOAUTH2.match(response)
    if match is None:
        return None
    return Bearer(
        match["user"].decode("utf-8", "replace"), match["token"].decode("ascii", "replace")
    )


def parse_oauthbearer(response: bytes) -> Bearer | None:
    """RFC 7628: a GS2 header ``n,a=<login>,`` then ``^A``-separated ``key=value`` pairs,
    one of which is ``auth=Bearer <token>``, ending with ``^A^A``."""
    header, sep, rest = response.partition(b"\x01")
    if not sep or not rest.endswith(b"\x01\x01"):
        return None
    gs2 = header.split(b",")
    if len(gs2) < 2 or gs2[0] not in (b"n", b"y"):
        return None
    login = gs2[1][2:].decode("utf-8", "replace") if gs2[1].startswith(b"a=") else ""
    login = login.replace("=2C", ",").replace("=3D", "=")
    for pair in rest[:-2].split(b"\x01"):
        key, _, value = pair.partition(b"=")
        if key == b"auth" and value[:7].lower() == b"bearer ":
            return Bearer(login, value[7:].decode("ascii", "replace"))
    return None


class BearerMechanism(ServerMechanism):
    """XOAUTH2 or OAUTHBEARER for pymap: hands the token on as external credentials, which
    the login of ``imap.py`` checks at the portal."""

    def __init__(self, name: Literal["XOAUTH2", "OAUTHBEARER"]) -> None:
        super().__init__(name)
        self.parse = parse_xoauth2 if name == "XOAUTH2" else parse_oauthbearer

    def server_attempt(self, responses: Any) -> tuple[ExternalCredentials, bytes | None]:
        exchanges: list[ChallengeResponse] = list(responses)
        if not exchanges:
            raise ServerChallenge(b"")
        bearer = self.parse(exchanges[0].response)
        if bearer is None:
            raise InvalidResponse()
        return ExternalCredentials(bearer.login, bearer.token), None
