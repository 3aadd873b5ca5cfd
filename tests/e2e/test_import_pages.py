"""In a browser: the imports page and its guide fit the window, on a desktop and on a phone
(the column lists wrap, the tables scroll inside their own box), and have no serious
accessibility violation."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import PHONE_VIEWPORT, NewPage, sign_in
from .test_accessibility import assert_no_serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

DESKTOP = {"width": 1280, "height": 900}


def page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE_VIEWPORT], ids=["desktop", "phone"])
def test_the_imports_page_and_its_guide_fit_the_window(
    new_page: NewPage, dsi: Any, viewport: dict[str, int]
) -> None:
    page = new_page(viewport=viewport)
    sign_in(page, dsi)
    page.goto("/gestion/imports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Imports de comptes")
    assert page_width(page) <= viewport["width"]

    page.get_by_role("link", name="Le guide des imports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Guide des imports de comptes")
    assert page_width(page) <= viewport["width"]
    expect(page.get_by_role("table", name="Colonnes du fichier : Personnels (STS)")).to_be_visible()


def test_the_guide_has_no_serious_accessibility_violation(page: Page, dsi: Any) -> None:
    sign_in(page, dsi)
    page.goto("/gestion/imports/guide/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Guide des imports de comptes")
    assert_no_serious_violations(page)


def test_the_sample_file_is_offered_as_a_download(page: Page, dsi: Any) -> None:
    sign_in(page, dsi)
    page.goto("/gestion/imports/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Fichier d'exemple : Élèves et responsables (SIECLE)").click()
    assert download.value.suggested_filename == "exemple-siecle.csv"
