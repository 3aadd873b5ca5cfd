"""Load a blueprint (YAML) idempotently: ``manage.py load_blueprint blueprints/demo.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from convergence.core.blueprints import BlueprintError, load


class Command(BaseCommand):
    help = "Charge un blueprint YAML (catalogue, établissements, comptes de démonstration)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--quiet-notes", action="store_true", help="N'affiche pas les notes.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = load(options["path"])
        except BlueprintError as error:
            raise CommandError(str(error)) from error
        created = ", ".join(f"{k} : {v}" for k, v in sorted(report.created.items())) or "rien"
        updated = ", ".join(f"{k} : {v}" for k, v in sorted(report.updated.items())) or "rien"
        self.stdout.write(f"Créés — {created}. Mis à jour — {updated}.")
        if not options["quiet_notes"]:
            for note in report.notes:
                self.stdout.write(note)
