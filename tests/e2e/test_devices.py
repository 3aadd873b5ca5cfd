"""Devices and recent activity ("Mes appareils", "Activité récente") in a browser: accessible,
usable with a keyboard on a phone-sized screen."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from .conftest import PHONE_VIEWPORT, NewPage, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


IPHONE_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def serious_violations(page: Page) -> list[str]:
    return [
        f"{violation['id']}: {violation['help']}"
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in {"serious", "critical"}
    ]


def test_pupil_disconnects_her_other_device_with_the_keyboard_on_a_phone(
    new_page: NewPage, pupil, browser_errors: list[str]
) -> None:
    other = new_page()
    sign_in(other, pupil)
    phone = new_page(viewport=PHONE_VIEWPORT, user_agent=IPHONE_AGENT)
    sign_in(phone, pupil)

    phone.goto("/compte/appareils/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Mes appareils")
    expect(phone.get_by_text("Cet appareil", exact=True)).to_be_visible()
    assert serious_violations(phone) == []
    # Nothing wider than the screen: the cards stack.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]

    button = phone.get_by_role("button", name="Déconnecter", exact=True)
    button.focus()
    phone.keyboard.press("Enter")
    expect(phone.get_by_text("La session a été terminée")).to_be_visible()
    expect(phone.get_by_role("button", name="Déconnecter", exact=True)).to_have_count(0)

    other.goto("/compte/")
    expect(other).to_have_url("/connexion/?next=/compte/", timeout=5_000)

    phone.goto("/compte/activite/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Activité récente")
    expect(phone.get_by_role("cell", name="Session terminée")).to_be_visible()
    assert serious_violations(phone) == []
    assert browser_errors == []
