"""Write the static error pages the reverse proxy answers by itself (saturation, restarts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.template import loader

from convergence.core import errors


class Command(BaseCommand):
    help = (
        "Écrit les pages d'erreur statiques (503) que le serveur mandataire sert lui-même "
        "quand le portail est saturé ou redémarre."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", type=Path, help="Dossier où écrire 503.html.")

    def handle(self, *args: Any, **options: Any) -> None:
        folder: Path = options["folder"]
        folder.mkdir(parents=True, exist_ok=True)
        page = loader.render_to_string(
            "core/error_standalone.html", {"error": errors.UNAVAILABLE, "retry_after": 10}
        )
        target = folder / "503.html"
        target.write_text(page, encoding="utf-8")
        self.stdout.write(f"Page écrite : {target}")
