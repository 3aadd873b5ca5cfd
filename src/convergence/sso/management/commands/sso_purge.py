"""Daily housekeeping of single sign-on (cron or systemd timer; see docs/sso.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from oauth2_provider.models import clear_expired

from convergence.sso import actions


class Command(BaseCommand):
    help = "Supprime les tickets, codes, jetons et sessions SSO expirés."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = actions.purge_expired()
        clear_expired()
        self.stdout.write(
            "Tickets CAS supprimés : {tickets} ; codes : {codes} ; sessions SSO closes : "
            "{expired_sessions} ; anciennes sessions supprimées : {old_sessions}. "
            "Jetons OAuth expirés supprimés.".format(**counts)
        )
