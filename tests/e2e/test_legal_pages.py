"""The pages a public site owes (mentions légales, données personnelles, accessibilité, plan du
site): axe-core finds nothing serious, and a phone reads them without scrolling sideways."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import PHONE_VIEWPORT, NewPage
from .test_accessibility import assert_no_serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/mentions-legales/", "Mentions légales"),
        ("/donnees-personnelles/", "Données personnelles"),
        ("/accessibilite/", "Déclaration d'accessibilité"),
        ("/plan-du-site/", "Plan du site"),
    ],
)
def test_legal_page_reads_on_a_phone_without_serious_violation(
    new_page: NewPage, browser_errors: list[str], demo: Any, path: str, title: str
) -> None:
    page = new_page(viewport=PHONE_VIEWPORT)
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    assert_no_serious_violations(page)
    assert browser_errors == []
