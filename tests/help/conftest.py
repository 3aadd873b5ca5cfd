"""Guides of the tests' own, in a temporary folder (``HELP_GUIDES_DIR``), so that the tests
do not depend on the guides of content/guides/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FRONT = """---
title: {title}
summary: {summary}
profiles: [{profiles}]
tags: [{tags}]
error_codes: [{codes}]
last_reviewed: 2026-12-01
{extra}---
{body}
"""


@pytest.fixture
def guides_dir(tmp_path: Path, settings: Any) -> Path:
    from convergence.help import guides

    folder = tmp_path / "guides"
    (folder / "images").mkdir(parents=True)
    settings.HELP_GUIDES_DIR = folder
    guides.forget()
    yield folder
    guides.forget()


@pytest.fixture
def write_guide(guides_dir: Path) -> Callable[..., Path]:
    from convergence.help import guides

    def write(
        slug: str,
        *,
        title: str = "Un guide",
        summary: str = "Un résumé.",
        body: str = "Du texte.",
        profiles: str = "",
        tags: str = "",
        codes: str = "",
        extra: str = "",
    ) -> Path:
        path = guides_dir / f"{slug}.md"
        text = FRONT.format(
            title=title,
            summary=summary,
            body=body,
            profiles=profiles,
            tags=tags,
            codes=codes,
            extra=extra,
        )
        path.write_text(text, encoding="utf-8")
        guides.forget()  # a process looks at the folder at most once a second
        return path

    return write


@pytest.fixture
def library(write_guide: Callable[..., Path]) -> None:
    """Three small guides: a password one, a lost-phone one, one for parents (pupils named)."""
    write_guide(
        "mot-de-passe-oublie",
        title="Mot de passe oublié",
        summary="Recevoir un lien ou un code pour choisir un nouveau mot de passe.",
        body="## Demander un lien\nOuvrez la page /mot-de-passe-oublie/ et suivez les étapes.",
        profiles="eleve, parent, personnel",
    )
    write_guide(
        "facteur-perdu",
        title="J'ai perdu mon téléphone ou mon second facteur",
        summary="Que faire quand l'application de codes n'est plus là.",
        body="Contactez votre référent. Un code de secours vous permet aussi de vous connecter.",
    )
    write_guide(
        "premiere-connexion-parent",
        title="Première connexion des parents",
        summary="Activer le compte qui donne accès aux services de vos enfants.",
        body="Les comptes des Élèves sont créés par l'établissement. Un mot de passe suffit.",
        profiles="parent",
    )
