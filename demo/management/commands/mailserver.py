"""The demo's embedded SMTP server: accepts mail on loopback and files it in a Maildir.

Production uses Postfix and Dovecot; this server exists so that a fresh machine can send the
portal's e-mails (password resets) somewhere a person can read them (``var/maildir``).
"""

from __future__ import annotations

import mailbox
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class MaildirHandler:
    """Stores each accepted message, unchanged, in one Maildir."""

    def __init__(self, path: Path) -> None:
        self.maildir = mailbox.Maildir(path, create=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.maildir.add(mailbox.MaildirMessage(content))
        return "250 Message accepted for delivery"


class Command(BaseCommand):
    help = "Démarre le serveur SMTP embarqué de la démonstration (boucle locale uniquement)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=settings.EMAIL_PORT)
        parser.add_argument("--maildir", type=Path, default=settings.VAR_DIR / "maildir")

    def handle(self, *args: Any, **options: Any) -> None:
        handler = MaildirHandler(options["maildir"])
        controller = Controller(handler, hostname="127.0.0.1", port=options["port"])
        controller.start()
        self.stdout.write(
            f"Serveur SMTP de démonstration sur 127.0.0.1:{options['port']}, "
            f"courriels dans {options['maildir']}"
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
