"""In a browser, on a phone, with the keyboard only: a parent who forgot her password follows
the troubleshooter to the password-reset page; htmx swaps each step in place and the address
follows; axe-core finds nothing serious on the way."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import PHONE_VIEWPORT, NewPage
from .test_accessibility import assert_no_serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def fits_the_phone(page: Page) -> bool:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width <= PHONE_VIEWPORT["width"]


def choose_by_keyboard(page: Page, label: str) -> None:
    """From the focused question, Tab into its radio group, move to ``label`` with the arrow
    keys (Space for the first answer), then Tab to « Continuer » and press Enter."""
    radios = page.locator("#depannage").get_by_role("radio")
    labels = [radios.nth(index).get_attribute("id") for index in range(radios.count())]
    wanted = page.get_by_role("radio", name=label)
    position = labels.index(wanted.get_attribute("id"))
    page.keyboard.press("Tab")
    expect(radios.first).to_be_focused()
    if position == 0:
        page.keyboard.press("Space")
    for _ in range(position):
        page.keyboard.press("ArrowDown")
    expect(wanted).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Continuer")).to_be_focused()
    page.keyboard.press("Enter")


def test_parent_walks_the_troubleshooter_by_keyboard_on_a_phone(
    new_page: NewPage, browser_errors: list[str], demo: Any
) -> None:
    page = new_page(viewport=PHONE_VIEWPORT)
    page.goto("/aide/depannage/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Dépannage")
    assert fits_the_phone(page)
    assert_no_serious_violations(page)

    page.get_by_role("link", name="Je n'arrive pas à me connecter").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("group", name="Vous êtes :")).to_be_visible()
    assert_no_serious_violations(page)
    # A full page (the link was not htmx): the skip link leads to the content, then the question.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Contenu")).to_be_focused()
    page.keyboard.press("Enter")
    choose_by_keyboard(page, "Parent")

    question = page.get_by_role("group", name="Avez-vous déjà activé votre compte ?")
    expect(question).to_be_visible()
    # htmx put the question in place of the profile's, and focus on it.
    expect(page.locator("#question-legende")).to_be_focused()
    expect(page).to_have_url(
        re.compile(r"/aide/depannage/connexion/parent-compte/\?profil=parent$")
    )
    assert fits_the_phone(page)
    assert_no_serious_violations(page)
    choose_by_keyboard(page, "Oui, je me suis déjà connecté ou connectée")

    expect(page.get_by_role("group", name="Que se passe-t-il ?")).to_be_visible()
    choose_by_keyboard(page, "J'ai oublié mon mot de passe")

    ending = page.get_by_role("heading", level=2, name="Choisissez un nouveau mot de passe")
    expect(ending).to_be_focused()
    expect(page).to_have_url(re.compile(r"/connexion/mot-de-passe-oublie/\?profil=parent&etapes="))
    action = page.get_by_role("link", name=re.compile(r"^Aller sur la page"))
    expect(action).to_have_attribute("href", "/mot-de-passe-oublie/")
    expect(page.get_by_role("link", name="Revenir à la question précédente")).to_be_visible()
    assert fits_the_phone(page)
    assert_no_serious_violations(page)

    # The address htmx pushed is a page of its own: reloading it shows the same ending.
    page.reload()
    expect(
        page.get_by_role("heading", level=2, name="Choisissez un nouveau mot de passe")
    ).to_be_visible()

    action.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/mot-de-passe-oublie/$"))
    assert browser_errors == []
