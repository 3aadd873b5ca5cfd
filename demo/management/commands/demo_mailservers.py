"""The demo's embedded mail system (``make run`` starts it): IMAP, ManageSieve and submission on
the loopback, over per-login maildirs seeded at the first start (``demo/mail/``).

People are checked at the portal (``--portal``) with the demo's server client
(``--client-id`` / ``--client-secret``, declared under ``server_clients:`` of the demo
blueprint): access tokens by introspection, app passwords at the app-password endpoint.
"""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from demo.mail.auth import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, PortalChecker
from demo.mail.seed import people_from_database, seed_mailboxes
from demo.mail.servers import MailServers, Ports
from demo.mail.submission import database_directory
from demo.mail.teacher import prepare_teacher


class Command(BaseCommand):
    help = (
        "Démarre les serveurs de messagerie de la démonstration (IMAP, ManageSieve, "
        "soumission SMTP), sur la boucle locale uniquement."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--imap-port", type=int, default=settings.MAIL_IMAP_PORT)
        parser.add_argument("--submission-port", type=int, default=settings.MAIL_SUBMISSION_PORT)
        parser.add_argument("--sieve-port", type=int, default=settings.MAIL_SIEVE_PORT)
        parser.add_argument("--portal", default="http://127.0.0.1:8000")
        parser.add_argument("--client-id", default=DEMO_CLIENT_ID)
        parser.add_argument("--client-secret", default=DEMO_CLIENT_SECRET)
        parser.add_argument("--maildir", type=Path, default=settings.VAR_DIR / "demo-mail")
        parser.add_argument("--no-seed", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        logging.basicConfig(level=logging.INFO, format="messagerie: %(message)s")
        base_dir: Path = options["maildir"]
        domain = settings.MAIL_DOMAIN
        if not options["no_seed"]:
            added = seed_mailboxes(base_dir, people_from_database(domain), domain=domain)
            if added:
                self.stdout.write(f"Boîtes de démonstration garnies : {added} messages.")
            if prepare_teacher(base_dir, domain=domain):
                self.stdout.write(
                    "Sophie Bernard : règle « seulement mon chef d'établissement », réponse "
                    "d'absence et carnet d'adresses prêts."
                )
        servers = MailServers(
            base_dir=base_dir,
            checker=PortalChecker(
                portal=options["portal"],
                client_id=options["client_id"],
                client_secret=options["client_secret"],
            ),
            directory=database_directory(domain),
            host=options["host"],
            ports=Ports(options["imap_port"], options["submission_port"], options["sieve_port"]),
        )
        ports = servers.start()
        self.stdout.write(
            f"Messagerie de démonstration sur {options['host']} : IMAP {ports.imap}, "
            f"soumission SMTP {ports.submission}, ManageSieve {ports.sieve} ; "
            f"boîtes dans {base_dir}"
        )
        signal.signal(signal.SIGTERM, lambda *_: servers.stop())
        try:
            servers.wait()
        except KeyboardInterrupt:
            servers.stop()
