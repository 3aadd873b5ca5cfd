"""Start the scheduled jobs that are due (cron, systemd timer, or ``--loop``; ``core.schedule``)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from convergence.core.schedule import run_due_jobs

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Lance les tâches planifiées qui sont dues (purges quotidiennes et autres tâches "
        "périodiques déclarées par les applications). Sans danger à relancer souvent, et sur "
        "plusieurs serveurs à la fois : chaque tâche tourne au plus une fois par période."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--inline",
            action="store_true",
            help="Exécuter les tâches dans ce processus au lieu de les confier à la file.",
        )
        parser.add_argument(
            "--loop",
            action="store_true",
            help="Ne pas s'arrêter : vérifier de nouveau toutes les --interval secondes.",
        )
        parser.add_argument(
            "--interval",
            type=int,
            default=60,
            help="Secondes entre deux vérifications avec --loop (60 par défaut).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            try:
                started = run_due_jobs(inline=options["inline"])
            except Exception:
                if not options["loop"]:
                    raise
                # A loop outlives a passing failure (database restarting, full disk).
                logger.exception("Scheduled jobs check failed")
                started = []
            if started:
                verb = "exécutées" if options["inline"] else "mises en file"
                self.stdout.write(f"Tâches {verb} : {', '.join(started)}.")
            elif not options["loop"]:
                self.stdout.write("Aucune tâche à lancer : toutes ont déjà tourné aujourd'hui.")
            if not options["loop"]:
                return
            time.sleep(max(options["interval"], 1))
