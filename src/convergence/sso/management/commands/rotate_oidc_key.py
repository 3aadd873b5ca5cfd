"""Add a new OpenID Connect signing key and prune the retired keys nobody can need any more
(see docs/sso.md: run it, then restart the application processes)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from convergence.audit.actions import record_event
from convergence.sso import events, keys


class Command(BaseCommand):
    help = (
        "Crée une nouvelle clé de signature OpenID Connect ; l'ancienne reste publiée le temps "
        "que ses jetons expirent, les plus anciennes sont supprimées."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = settings.OIDC_KEYS_DIR
        grace = settings.OIDC_KEY_GRACE_SECONDS
        now = int(time.time())
        previous = keys.list_keys(directory)
        new_key = keys.generate_key(directory, now)
        pruned = keys.prune(directory, grace, now)
        new_kid = keys.key_id(new_key.pem())
        retired_kid = keys.key_id(previous[0].pem()) if previous else ""
        record_event(
            event_type=events.KEY_ROTATED,
            data={
                "kid": new_kid,
                "retired_kid": retired_kid,
                "pruned": [path.name for path in pruned],
            },
        )
        self.stdout.write(f"Nouvelle clé de signature : {new_key.path.name} (kid {new_kid}).")
        if retired_kid:
            self.stdout.write(
                f"L'ancienne clé (kid {retired_kid}) reste publiée pendant {grace} secondes "
                "pour vérifier les jetons qu'elle a signés."
            )
        for path in pruned:
            self.stdout.write(f"Clé retirée supprimée : {path.name}.")
        self.stdout.write(
            self.style.WARNING(
                "Redémarrez les processus de l'application : ils ne lisent les clés qu'au "
                "démarrage et signent avec l'ancienne clé jusque-là."
            )
        )
