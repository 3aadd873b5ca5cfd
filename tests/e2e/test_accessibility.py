"""axe-core on the pages everyone meets: nothing "serious" or "critical", in light and dark mode.

axe checks what a machine can (names, labels, contrast, landmarks, ARIA); the RGAA audit
by a person covers the rest.
"""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from convergence.portal import actions
from convergence.portal.models import Service

from .conftest import NewPage, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

BLOCKING_IMPACTS = {"serious", "critical"}


def serious_violations(page: Page) -> list[str]:
    """axe's "serious" and "critical" violations on the page, one line each (with its nodes)."""
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']}\n"
        + "\n".join(f"    {node['target']}: {node['html'][:160]}" for node in violation["nodes"])
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]


def assert_no_serious_violations(page: Page) -> None:
    violations = serious_violations(page)
    report = "\n".join(f"- {violation}" for violation in violations)
    assert violations == [], f"axe on {page.url}:\n{report}"


def test_login_page_has_no_serious_accessibility_violation(page: Page, demo: None) -> None:
    page.goto("/connexion/?profil=eleve")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à Convergence")
    assert_no_serious_violations(page)


def test_pupil_dashboard_has_no_serious_accessibility_violation(page: Page, pupil: Any) -> None:
    # With favourites, so their reorder and remove buttons are checked too.
    for slug in ("messagerie", "ent"):
        actions.pin_service(acting_user=pupil, service=Service.objects.get(slug=slug))
    sign_in(page, pupil)
    expect(page.get_by_role("button", name="Descendre Messagerie")).to_be_visible()
    assert_no_serious_violations(page)


def test_teacher_dashboard_has_no_serious_accessibility_violation(page: Page, teacher: Any) -> None:
    sign_in(page, teacher)
    expect(page.locator("#catalogue").get_by_role("heading", name="Arena")).to_be_visible()
    assert_no_serious_violations(page)


def test_account_page_has_no_serious_accessibility_violation(page: Page, pupil: Any) -> None:
    sign_in(page, pupil)
    page.goto("/compte/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon compte")
    assert_no_serious_violations(page)


def test_not_found_page_has_no_serious_accessibility_violation(page: Page, demo: None) -> None:
    response = page.goto("/cette-page-n-existe-pas/")
    assert response is not None
    assert response.status == 404
    expect(page.locator(".cv-error-code")).to_have_text("CONV-404")
    assert_no_serious_violations(page)


def test_login_page_in_dark_mode_has_no_serious_accessibility_violation(
    new_page: NewPage, demo: None
) -> None:
    page = new_page(color_scheme="dark")
    page.goto("/connexion/")
    # The DSFR follows the system preference (data-fr-scheme="system") once its script ran.
    expect(page.locator("html")).to_have_attribute("data-fr-theme", "dark")
    assert_no_serious_violations(page)


def test_pupil_dashboard_in_dark_mode_has_no_serious_accessibility_violation(
    new_page: NewPage, pupil: Any
) -> None:
    page = new_page(color_scheme="dark")
    sign_in(page, pupil)
    expect(page.locator("html")).to_have_attribute("data-fr-theme", "dark")
    assert_no_serious_violations(page)
