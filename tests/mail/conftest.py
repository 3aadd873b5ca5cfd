"""Fixtures of the webmail's tests: the académie's mail server as a server client."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from convergence.core.blueprints import apply
from demo.mail.auth import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, PortalChecker
from demo.mail.seed import people_from_database, seed_mailboxes
from demo.mail.servers import MailServers
from demo.mail.submission import database_directory
from tests.mail.dovecot import SERVER_CLIENT_ID, SERVER_CLIENT_SECRET

DEMO_DOMAIN = "ac-besancon.fr"


@dataclass(frozen=True)
class ServerClient:
    client_id: str
    client_secret: str

    def basic(self) -> str:
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()


MAIL_SERVER = ServerClient(SERVER_CLIENT_ID, SERVER_CLIENT_SECRET)


@pytest.fixture
def mail_server_client(db: None) -> ServerClient:
    apply(
        {
            "server_clients": [
                {
                    "client_id": MAIL_SERVER.client_id,
                    "name": "Serveur de messagerie",
                    "client_secret": MAIL_SERVER.client_secret,
                }
            ]
        }
    )
    return MAIL_SERVER


@pytest.fixture
def demo_mail_servers(
    live_server: Any, demo: None, tmp_path: Path, settings: Any
) -> Iterator[MailServers]:
    """The demo's embedded mail servers (pymap IMAP and ManageSieve, aiosmtpd submission with
    the demo's Sieve step at delivery) on free ports, every demo person's mailbox seeded, the
    servers asking the live server as the demo's server client, the webmail pointed at them."""
    apply(
        {
            "server_clients": [
                {
                    "client_id": DEMO_CLIENT_ID,
                    "name": "Serveur de messagerie de démonstration",
                    "client_secret": DEMO_CLIENT_SECRET,
                }
            ]
        }
    )
    base = tmp_path / "demo-mail"
    seed_mailboxes(base, people_from_database(DEMO_DOMAIN), domain=DEMO_DOMAIN)
    running = MailServers(
        base_dir=base,
        checker=PortalChecker(portal=live_server.url, timeout=10),
        directory=database_directory(DEMO_DOMAIN),
    )
    ports = running.start()
    settings.MAIL_IMAP_PORT = ports.imap
    settings.MAIL_SUBMISSION_PORT = ports.submission
    settings.MAIL_SIEVE_PORT = ports.sieve
    settings.MAIL_IMAP_SECURITY = settings.MAIL_SUBMISSION_SECURITY = "none"
    settings.MAIL_SIEVE_SECURITY = "none"
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _close_mail_connections() -> Iterator[None]:
    from convergence.mail import connections

    connections.reset()
    yield
    connections.reset()
