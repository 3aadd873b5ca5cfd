"""Write core/static/core/dsfr-utility.css: the DSFR utility classes the portal names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dsfr
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from convergence.core import icons


def sources() -> list[Path]:
    """Where the portal names DSFR classes: its code and templates, the demo's, the
    blueprints, and django-dsfr's templates (its tags and form widgets)."""
    base = Path(settings.BASE_DIR)
    return [
        base / "src",
        base / "demo",
        base / "blueprints",
        Path(dsfr.__file__).resolve().parent / "templates",
    ]


class Command(BaseCommand):
    help = (
        "Écrit core/static/core/dsfr-utility.css : les classes utilitaires du DSFR (icônes, "
        "couleurs) que nomment les gabarits, le code et les plans du portail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="N'écrit rien ; échoue si le fichier n'est pas à jour.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        target = Path(__file__).resolve().parents[2] / "static" / icons.SUBSET
        css = icons.subset_css(icons.names_in(sources()))
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if options["check"]:
            if css != current:
                raise CommandError(f"{target} n'est pas à jour : lancez manage.py write_icon_css.")
            return
        target.write_text(css, encoding="utf-8")
        self.stdout.write(f"Écrit : {target} ({len(css)} octets)")
