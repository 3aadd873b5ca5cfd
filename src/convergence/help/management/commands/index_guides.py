"""``manage.py index_guides``: report the guide files that cannot be read, then rebuild the
help search's index from every readable guide (files and published drafts)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from convergence.help import checks, guides, search


class Command(BaseCommand):
    help = "Vérifie les guides d'aide et reconstruit l'index de la recherche."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--strict", action="store_true", help="Échouer si un guide est illisible."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        problems = checks.problems()
        for name, reasons in sorted(problems.items()):
            self.stderr.write(f"Guide laissé de côté — {name} :")
            for reason in reasons:
                self.stderr.write(f"  - {reason}")
        guides.forget()
        count = search.rebuild()
        self.stdout.write(f"{count} guide(s) indexé(s).")
        if problems and options["strict"]:
            raise CommandError(f"{len(problems)} guide(s) illisible(s).")
