"""The demo's embedded mail servers (pymap IMAP, aiosmtpd submission) for browser journeys.

The same approach as ``tests/mail/test_compose.py``: seeded mailboxes in a temporary
directory, the servers asking the live server exactly as Dovecot would (introspection, the
app-password check) as the demo's server client, and the webmail's settings pointed at them.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from convergence.core.blueprints import apply
from convergence.mail import connections
from demo.mail.auth import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, PortalChecker
from demo.mail.seed import people_from_database, seed_mailboxes
from demo.mail.servers import MailServers
from demo.mail.submission import database_directory

DOMAIN = "ac-besancon.fr"


@pytest.fixture
def mail_servers(
    live_server: Any, demo: None, tmp_path: Path, settings: Any
) -> Iterator[MailServers]:
    """The demo académie's mail servers on free ports, every person's mailbox seeded."""
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
    people = people_from_database(DOMAIN)
    # Seeding numbers the messages with asyncio.run(), which refuses a thread where an event
    # loop runs, as sync Playwright's does in the browser tests' thread: it seeds in another.
    with ThreadPoolExecutor(max_workers=1) as seeder:
        seeder.submit(seed_mailboxes, base, people, domain=DOMAIN).result(timeout=60)
    running = MailServers(
        base_dir=base,
        checker=PortalChecker(portal=live_server.url, timeout=10),
        directory=database_directory(DOMAIN),
    )
    # Pooled connections and cached tokens belong to another test's servers and database.
    connections.reset()
    ports = running.start()
    settings.MAIL_IMAP_HOST = settings.MAIL_SUBMISSION_HOST = running.host
    settings.MAIL_SIEVE_HOST = running.host
    settings.MAIL_IMAP_PORT = ports.imap
    settings.MAIL_SUBMISSION_PORT = ports.submission
    settings.MAIL_SIEVE_PORT = ports.sieve
    settings.MAIL_IMAP_SECURITY = settings.MAIL_SUBMISSION_SECURITY = "none"
    settings.MAIL_SIEVE_SECURITY = "none"
    yield running
    connections.reset()
    running.stop()
