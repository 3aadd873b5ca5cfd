"""Karim on his phone: one section per child, a switcher to jump to each, the child's page;
and a search of the header that understands "mail"."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import PHONE_VIEWPORT, NewPage, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PHONE = {"viewport": PHONE_VIEWPORT, "is_mobile": True, "has_touch": True}


def test_parent_on_a_phone_switches_between_his_childrens_sections(
    new_page: NewPage, parent: Any, browser_errors: list[str]
) -> None:
    page = new_page(**PHONE)
    sign_in(page, parent)
    switcher = page.get_by_role("navigation", name="Sections de mes services")
    expect(switcher.get_by_role("link")).to_have_text(["Léa", "Yanis", "Services communs"])

    switcher.get_by_role("link", name="Yanis").click()
    yanis = page.get_by_role("region", name="Yanis — 1re G2")
    expect(yanis.get_by_role("heading", name="Yanis — 1re G2")).to_be_in_viewport()
    expect(yanis).to_contain_text("Lycée Charles Nodier, Dole")
    expect(yanis.get_by_role("heading", level=4)).to_have_text(
        ["CDI du lycée Charles Nodier", "Transports scolaires du Jura"]
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]

    yanis.get_by_role("link", name="La fiche de Yanis").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Yanis Martin")
    expect(page.get_by_text("Classe de 1re G2, Lycée Charles Nodier, Dole (Jura)")).to_be_visible()
    assert browser_errors == []


def test_header_search_finds_the_messagerie_for_mail(
    new_page: NewPage, teacher: Any, browser_errors: list[str]
) -> None:
    page = new_page()
    sign_in(page, teacher)
    box = page.get_by_role("searchbox", name="Rechercher dans le portail")
    box.fill("mail")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/recherche/\?q=mail$"))
    results = page.get_by_role("region", name="Mes services")
    expect(results.get_by_role("link")).to_have_text(["Messagerie"])
    assert browser_errors == []
