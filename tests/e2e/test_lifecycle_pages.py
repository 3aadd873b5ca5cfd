"""In a browser: "Mes données" and the school-year page are accessible (axe), and the
downloads are offered as files."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import sign_in
from .test_accessibility import assert_no_serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_my_data_page_has_no_serious_accessibility_violation(page: Page, parent: Any) -> None:
    sign_in(page, parent)
    page.goto("/compte/mes-donnees/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes données")
    expect(page.get_by_role("heading", name="Rôles et affectations")).to_be_visible()
    assert_no_serious_violations(page)


def test_parent_downloads_the_pdf_of_a_child(page: Page, parent: Any, pupil: Any) -> None:
    sign_in(page, parent)
    page.goto("/compte/mes-donnees/")
    page.get_by_role("link", name=f"Données de {pupil.get_full_name()}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Données de {pupil.get_full_name()}")
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF (à imprimer)").click()
    assert download.value.suggested_filename.startswith(f"mes-donnees-{pupil.login}-")


def test_school_year_page_has_no_serious_accessibility_violation(page: Page, dsi: Any) -> None:
    sign_in(page, dsi)
    page.goto("/gestion/annee-scolaire/")
    expect(
        page.get_by_role("heading", name="Ce que la clôture ferait (simulation)")
    ).to_be_visible()
    assert_no_serious_violations(page)
