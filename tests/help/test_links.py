"""Every link from one page of the portal to another in the guides leads somewhere: a guide
that sends a person to a page that does not exist is a dead end when they need help most."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import Resolver404, resolve

GUIDES = sorted((Path(settings.BASE_DIR) / "content" / "guides").glob("*.md"))
INTERNAL_LINK = re.compile(r"\]\((/[^)\s#?]*)")


@pytest.mark.parametrize("guide", GUIDES, ids=lambda path: path.stem)
def test_internal_links_resolve(guide: Path) -> None:
    broken = []
    for path in INTERNAL_LINK.findall(guide.read_text(encoding="utf-8")):
        try:
            resolve(path)
        except Resolver404:
            broken.append(path)
    assert broken == []


def test_guide_links_name_existing_guides() -> None:
    slugs = {path.stem for path in GUIDES}
    for guide in GUIDES:
        for slug in re.findall(r"\]\(/aide/guides/([a-z0-9-]+)/", guide.read_text("utf-8")):
            assert slug in slugs, f"{guide.stem} links to a missing guide: {slug}"
