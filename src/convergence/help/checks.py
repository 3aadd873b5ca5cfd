"""System check ``help.W001``: every guide file of ``content/guides/`` can be read (front
matter valid, known profiles and error codes, a variant naming an existing guide). A warning,
so that a bad guide never stops ``migrate``; ``make lint`` (``--fail-level WARNING``) fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks

from convergence.help import guides


def problems() -> dict[str, list[str]]:
    """File name → what is wrong with it (files only: drafts are validated by their form)."""
    collection = guides.load_files(Path(settings.HELP_GUIDES_DIR))
    found = dict(collection.problems)
    for guide in collection.guides.values():
        if guide.variant_of and guide.variant_of not in collection.guides:
            found.setdefault(f"{guide.slug}.md", []).append(
                f"« variant_of » nomme un guide absent : {guide.variant_of}."
            )
    return found


def check_guides(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    folder = Path(settings.HELP_GUIDES_DIR)
    return [
        checks.Warning(
            f"Guide {folder / name} : {' '.join(reasons)}",
            hint="Voir le format des guides dans docs/architecture.md (« help »).",
            id="help.W001",
        )
        for name, reasons in sorted(problems().items())
    ]
