"""Import accounts from a CSV file, for the DSI's scripts: ``manage.py import_accounts``.

The same actions as the /gestion/imports/ page: a dry run first, which prints its report;
with ``--apply`` and no error, the real run. Progress is printed as it goes.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from convergence.accounts.models import SCHOOL_YEAR_REGEX
from convergence.provisioning.actions.imports import (
    apply_import_job,
    create_import_job,
    execute_import_job,
)
from convergence.provisioning.imports import report_lines
from convergence.provisioning.models import ImportJob, ImportKind, JobState


class Command(BaseCommand):
    help = (
        "Importe des comptes depuis un fichier CSV (docs/imports.md) : élèves et responsables "
        "(--kind siecle) ou personnels (--kind sts). Sans --apply, simulation seulement : le "
        "rapport dit ce qui serait créé, modifié, retiré. Avec --apply, la simulation puis, si "
        "elle est sans erreur, l'import réel."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Fichier CSV (UTF-8, séparateur « ; »).")
        parser.add_argument("--kind", choices=ImportKind.values, required=True)
        parser.add_argument(
            "--school-year", default=None, help="Année scolaire (2026-2027) ; défaut : en cours."
        )
        parser.add_argument("--apply", action="store_true", help="Appliquer après simulation.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        year: str | None = options["school_year"]
        if year is not None and not re.fullmatch(SCHOOL_YEAR_REGEX, year):
            raise CommandError("--school-year s'écrit AAAA-AAAA, par exemple 2026-2027.")
        if not path.is_file():
            raise CommandError(f"Fichier introuvable : {path}")
        with path.open("rb") as source:
            job = create_import_job(
                acting_user=None,
                kind=options["kind"],
                content=iter(lambda: source.read(1 << 20), b""),
                file_name=path.name,
                school_year=year,
                enqueue=False,
            )
        job = self._run(job, "Simulation")
        if not options["apply"] or job.state != JobState.DONE or job.report.get("error_count"):
            if job.state != JobState.DONE or job.report.get("error_count"):
                raise CommandError("La simulation a trouvé des erreurs : rien n'a été enregistré.")
            return
        run = apply_import_job(acting_user=None, job=job, enqueue=False)
        run = self._run(run, "Import")
        if run.state != JobState.DONE:
            raise CommandError("L'import a échoué (voir le rapport).")

    def _run(self, job: ImportJob, label: str) -> ImportJob:
        last = [-1]

        def progress(phase: str, done: int, total: int) -> None:
            step = max(1, total // 20)
            if done == total or done // step != last[0]:
                last[0] = done // step
                name = "vérification" if phase == "verification" else "écriture"
                self.stdout.write(
                    f"{label} ({name}) : {done:,} / {total:,} lignes".replace(",", "\u00a0")
                )
                sys.stdout.flush()

        job = execute_import_job(job.pk, progress=progress)
        for line in report_lines(job):
            self.stdout.write(line)
        return job
