"""Léa's visit to the portal in a real browser: sign in, find a service, arrange her favourites.

The journey runs with JavaScript (htmx swaps the catalogue and the favourites in place) and
without it (plain forms and redirects), and on a phone-sized screen.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Page, Response, expect

from .conftest import PHONE_VIEWPORT, NewPage, login_field, password_field, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PHONE = {"viewport": PHONE_VIEWPORT, "is_mobile": True, "has_touch": True}


def catalogue_refreshed_for(query: str) -> Callable[[Response], bool]:
    """Matches the response to the search box's htmx request for ``query``."""

    def matches(response: Response) -> bool:
        params = parse_qs(urlsplit(response.url).query, keep_blank_values=True)
        return params.get("partial") == ["catalogue"] and params.get("q") == [query]

    return matches


def favourite_changed(slug: str, action: str) -> Callable[[Response], bool]:
    """Matches the response to a favourite's form (``epingler``, ``deplacer``, ``retirer``)."""

    def matches(response: Response) -> bool:
        path = urlsplit(response.url).path
        return response.request.method == "POST" and path == f"/favoris/{slug}/{action}/"

    return matches


def favourite_links(page: Page) -> Locator:
    """The links of "Mes favoris", in the order the page shows them."""
    return page.get_by_role("region", name="Mes favoris").get_by_role("link")


def in_order(*names: str) -> list[re.Pattern[str]]:
    # A favourite's link text may end with an "site externe" badge.
    return [re.compile(re.escape(name)) for name in names]


def test_pupil_signs_in_finds_a_service_and_arranges_her_favourites(
    page: Page, pupil: Any, browser_errors: list[str], live_server: Any
) -> None:
    dashboard_url = f"{live_server.url}/"
    page.goto("/connexion/")
    page.get_by_role("link", name="Élève", exact=True).click()
    expect(page).to_have_url(re.compile(r"/connexion/\?profil=eleve$"))
    expect(page.get_by_role("link", name="Élève", exact=True)).to_have_attribute(
        "aria-current", "true"
    )

    # Keyboard only: the identifier has the focus, Tab reaches the password, Enter signs in.
    expect(login_field(page)).to_be_focused()
    page.keyboard.type(pupil.login)
    page.keyboard.press("Tab")
    expect(password_field(page)).to_be_focused()
    page.keyboard.type(pupil.demo_password)
    page.keyboard.press("Enter")

    expect(page).to_have_url(dashboard_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Léa")
    catalogue = page.locator("#catalogue")
    tile_titles = catalogue.get_by_role("heading", level=3)
    for name in ("Messagerie", "ENT Éclat-BFC", "Transports scolaires du Doubs"):
        expect(catalogue.get_by_role("heading", name=name, exact=True)).to_be_visible()
    expect(page.get_by_text("Arena")).to_have_count(0)
    service_count = tile_titles.count()

    # The catalogue narrows as she types: an htmx request, no page load.
    search = page.get_by_role("searchbox", name="Rechercher un service")
    with page.expect_response(catalogue_refreshed_for("trans")) as narrowed:
        search.press_sequentially("trans")
    assert narrowed.value.request.headers.get("hx-request") == "true"
    expect(tile_titles).to_have_text(["Transports scolaires du Doubs"])
    expect(page).to_have_url(dashboard_url)

    with page.expect_response(catalogue_refreshed_for("")):
        search.fill("")
    expect(tile_titles).to_have_count(service_count)

    expect(favourite_links(page)).to_have_count(0)
    with page.expect_response(favourite_changed("messagerie", "epingler")):
        catalogue.locator("#service-messagerie").get_by_role("button", name="Épingler").click()
    expect(favourite_links(page)).to_have_text(in_order("Messagerie"))
    with page.expect_response(favourite_changed("ent", "epingler")):
        catalogue.locator("#service-ent").get_by_role("button", name="Épingler").click()
    expect(favourite_links(page)).to_have_text(in_order("Messagerie", "ENT Éclat-BFC"))

    page.get_by_role("button", name="Descendre Messagerie").focus()
    with page.expect_response(favourite_changed("messagerie", "deplacer")):
        page.keyboard.press("Enter")
    expect(favourite_links(page)).to_have_text(in_order("ENT Éclat-BFC", "Messagerie"))

    page.reload()
    expect(favourite_links(page)).to_have_text(in_order("ENT Éclat-BFC", "Messagerie"))

    with page.expect_response(favourite_changed("messagerie", "retirer")):
        page.get_by_role("button", name="Retirer Messagerie des favoris").click()
    expect(favourite_links(page)).to_have_text(in_order("ENT Éclat-BFC"))
    expect(
        catalogue.locator("#service-messagerie").get_by_role("button", name="Épingler")
    ).to_be_visible()

    page.get_by_role("banner").get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(f"{live_server.url}/connexion/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à Convergence")

    # The back button asks the server again, which sends her to the sign-in page.
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/connexion/?next=/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à Convergence")

    assert browser_errors == []


def test_pupil_searches_and_pins_without_javascript(
    new_page: NewPage, pupil: Any, browser_errors: list[str], live_server: Any
) -> None:
    page = new_page(java_script_enabled=False)
    sign_in(page, pupil)

    search = page.get_by_role("searchbox", name="Rechercher un service")
    search.fill("trans")
    search.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/?q=trans")
    catalogue = page.locator("#catalogue")
    expect(catalogue.get_by_role("heading", level=3)).to_have_text(
        ["Transports scolaires du Doubs"]
    )
    expect(catalogue.get_by_role("status")).to_have_text("1 service correspond à « trans ».")

    catalogue.locator("#service-transports-doubs").get_by_role("button", name="Épingler").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(favourite_links(page)).to_have_text(in_order("Transports scolaires du Doubs"))
    expect(
        catalogue.locator("#service-transports-doubs").get_by_role(
            "button", name="Retirer des favoris"
        )
    ).to_be_visible()

    assert browser_errors == []


def test_login_form_fits_a_phone_screen(new_page: NewPage, demo: None) -> None:
    page = new_page(**PHONE)
    page.goto("/connexion/?profil=eleve")
    expect(page.get_by_role("button", name="Se connecter", exact=True)).to_be_visible()
    for field in (login_field(page), password_field(page)):
        box = field.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE_VIEWPORT["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]


def test_menu_button_opens_the_navigation_on_a_phone(
    new_page: NewPage, pupil: Any, browser_errors: list[str]
) -> None:
    page = new_page(**PHONE)
    sign_in(page, pupil)
    navigation = page.get_by_role("navigation", name="Menu principal")
    expect(navigation).to_be_hidden()

    page.get_by_role("button", name="Menu", exact=True).click()
    expect(navigation).to_be_visible()
    expect(navigation.get_by_role("link", name="Mon compte")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
    assert browser_errors == []
