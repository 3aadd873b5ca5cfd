"""``manage.py update_school_holidays FILE_OR_URL``: replace the shipped zone A school
holidays by those of the Éducation nationale's calendar (an ICS file or its URL, e.g.
https://fr.ftp.opendatasoft.com/openscol/fr-en-calendrier-scolaire/Zone-A.ics)."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from convergence.support import school_holidays

# The calendar is small; a server that does not answer within this is given up.
TIMEOUT_SECONDS = 15
MAX_BYTES = 2_000_000


def _fetch(source: str) -> str:
    if source.startswith(("https://", "http://")):
        try:
            with urllib.request.urlopen(source, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return bytes(response.read(MAX_BYTES)).decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Impossible de télécharger {source} : {error}") from error
    try:
        return Path(source).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"Impossible de lire {source} : {error}") from error


class Command(BaseCommand):
    help = "Met à jour les vacances scolaires de la zone A depuis le calendrier officiel (ICS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="Fichier ou adresse du calendrier ICS de la zone.")
        parser.add_argument(
            "--output",
            type=Path,
            default=school_holidays.DATA_FILE,
            help="Fichier de données à réécrire (par défaut, celui livré avec le portail).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source: str = options["source"]
        try:
            found = school_holidays.parse_ics(_fetch(source))
        except school_holidays.CalendarError as error:
            raise CommandError(str(error)) from error
        school_holidays.write(found, source=source, path=options["output"])
        self.stdout.write(
            f"{len(found)} périodes de vacances écrites dans {options['output']} "
            f"(du {found[0].first_day:%d/%m/%Y} au {found[-1].last_day:%d/%m/%Y})."
        )
