"""Start the task worker of the configured backend: RQ on Redis, or the database's."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from convergence.core import taskqueue


class Command(BaseCommand):
    help = (
        "Démarre l'exécuteur de tâches de la file configurée : RQ sur Redis quand REDIS_URL "
        "est défini, la base de données sinon."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--burst",
            action="store_true",
            help="Traiter les tâches en attente puis s'arrêter (RQ seulement).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if taskqueue.uses_rq():
            # The scheduler inside the worker moves retries and deferred tasks back to the
            # queue when due; several workers elect one scheduler among them through Redis.
            call_command(
                "rqworker",
                "default",
                with_scheduler=True,
                worker_class="convergence.core.taskqueue.Worker",
                job_class="django_tasks_rq.backend.Job",
                # An idle worker waits for work this long (its TTL less 15 s) before it
                # looks again for abandoned tasks: no longer than the maintenance interval.
                worker_ttl=settings.TASK_MAINTENANCE_SECONDS + 15,
                burst=options["burst"],
                verbosity=options["verbosity"],
            )
        else:
            call_command("db_worker", verbosity=options["verbosity"])
