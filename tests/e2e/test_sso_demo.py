"""The demo of single sign-on in a real browser: a teacher opens the ENT (CAS) and Arena (OpenID
Connect) from her dashboard and lands signed in to both; signing out of the portal signs her out
of both.

The two demo services run in threads of the test process on free ports, declared to the portal
the way the demo blueprint declares them; logouts are delivered during the portal's logout
request (immediate task backend).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.demo.test_relying_parties import IMMEDIATE_TASKS, DemoServices, running_demo_services

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def services(live_server: Any, demo: None, settings: Any) -> Iterator[DemoServices]:
    settings.TASKS = IMMEDIATE_TASKS
    with running_demo_services(live_server.url) as running:
        yield running


def open_tile(page: Page, name: str) -> Page:
    """Click a tile of the catalogue; services open in a new tab."""
    with page.expect_popup() as popup:
        page.locator("#catalogue").get_by_role("link", name=name).click()
    service = popup.value
    service.wait_for_load_state()
    return service


def test_teacher_opens_ent_and_arena_from_the_portal_and_one_logout_closes_both(
    page: Page, teacher: Any, services: DemoServices, browser_errors: list[str]
) -> None:
    sign_in(page, teacher)

    ent = open_tile(page, "ENT Éclat-BFC")
    expect(ent).to_have_url(f"{services.ent_url}/")
    expect(ent.get_by_text("Vous êtes connecté·e en tant que Sophie Bernard")).to_be_visible()
    expect(ent.get_by_role("button", name="Se déconnecter")).to_be_visible()

    arena = open_tile(page, "Arena")
    expect(arena).to_have_url(f"{services.arena_url}/")
    expect(arena.get_by_text("Vous êtes connecté·e en tant que Sophie Bernard")).to_be_visible()
    expect(arena.get_by_text("sbernard")).to_be_visible()

    page.get_by_role("button", name="Se déconnecter").click()
    # The portal answers once the services have been told (immediate task backend).
    expect(page.get_by_role("link", name="Se connecter", exact=True)).to_be_visible()

    for service in (ent, arena):
        service.reload()
        expect(service.get_by_role("link", name="Se connecter avec le portail")).to_be_visible()
        expect(service.get_by_text("Sophie Bernard")).to_have_count(0)
    assert browser_errors == []
