"""Compile the project's ``.po`` catalogs into the ``.mo`` files Django reads, in pure Python
(``core/catalogs.py``): GNU gettext is not needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from convergence.core import catalogs


class Command(BaseCommand):
    help = (
        "Compile les catalogues de traduction du projet (.po de LOCALE_PATHS) en fichiers .mo, "
        "sans GNU gettext. Les .mo sont versionnés avec leurs .po."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for path in catalogs.po_files([Path(folder) for folder in settings.LOCALE_PATHS]):
            target = catalogs.compile_po(path)
            self.stdout.write(f"Catalogue compilé : {target}")
