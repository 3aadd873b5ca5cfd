"""Service status in a browser, as the issue tells it: the DSI declares an incident on the
ENT; a teacher sees the notice on her dashboard and the state on the ENT's tile; everyone
reads it on the public status page. Then axe-core on every status page of the way.

Isabelle Fontaine (DSI, rectorat) declares; Sophie Bernard (teacher) is told; Léa (pupil)
is not told about Arena.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from convergence.status.models import Incident, PeakPeriod

from .conftest import NewPage, sign_in
from .test_accessibility import assert_no_serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

TITLE = "ENT : connexion impossible"
MESSAGE = "L'ENT refuse les connexions depuis 8 h. Les équipes techniques cherchent la cause."


def ent_tile(page: Page) -> Any:
    return page.locator("#service-ent").first


def test_the_dsi_declares_an_incident_and_a_teacher_sees_it(
    new_page: NewPage, dsi: Any, teacher: Any, browser_errors: list[str]
) -> None:
    manager = new_page()
    sign_in(manager, dsi)
    manager.goto("/gestion/statut/")
    expect(manager.get_by_role("heading", level=1)).to_have_text("État des services")
    manager.get_by_role("link", name="Déclarer un incident").click()
    manager.get_by_role("textbox", name=re.compile(r"^Titre")).fill(TITLE)
    manager.get_by_label("Impact").select_option(label="Indisponible")
    manager.locator("label").get_by_text("ENT Éclat-BFC", exact=True).click()
    manager.get_by_role("textbox", name=re.compile(r"^Message")).fill(MESSAGE)
    manager.get_by_role("button", name="Publier l'incident").click()
    expect(manager.get_by_role("heading", level=1)).to_contain_text(TITLE)
    incident = Incident.objects.get(title=TITLE)
    assert incident.is_published

    # Sophie, in her own browser: the notice on her dashboard, the state on the ENT's tile.
    page = new_page()
    sign_in(page, teacher)
    notices = page.get_by_role("region", name="Informations sur les services")
    expect(notices).to_contain_text("Service indisponible : ENT Éclat-BFC.")
    expect(ent_tile(page)).to_contain_text("Indisponible")
    # The state is said in words, not only in colour; its link reads the service's page.
    ent_tile(page).get_by_role("link", name=re.compile(r"Indisponible$")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("ENT Éclat-BFC")
    expect(page.get_by_text(TITLE).first).to_be_visible()
    assert_no_serious_violations(page)

    # The public page, without signing in.
    public = new_page()
    public.goto("/statut/")
    expect(public.get_by_text(TITLE).first).to_be_visible()
    expect(public.get_by_text("Indisponible").first).to_be_visible()
    assert_no_serious_violations(public)
    public.get_by_role("link", name=TITLE).first.click()
    expect(public.get_by_role("heading", level=1)).to_contain_text(TITLE)
    expect(public.get_by_text(MESSAGE)).to_be_visible()
    assert_no_serious_violations(public)

    # The DSI resolves it; the teacher's dashboard no longer warns.
    manager.get_by_label("Étape").select_option(label="Résolu")
    manager.get_by_role("textbox", name=re.compile(r"^Message")).fill(
        "L'ENT fonctionne de nouveau."
    )
    manager.get_by_role("button", name="Publier la mise à jour").click()
    expect(manager.get_by_text("L'ENT fonctionne de nouveau.").first).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Sophie")
    expect(page.get_by_text("Service indisponible : ENT Éclat-BFC.")).to_have_count(0)
    assert browser_errors == []


def test_status_management_pages_have_no_serious_accessibility_violation(
    new_page: NewPage, dsi: Any, browser_errors: list[str]
) -> None:
    page = new_page()
    sign_in(page, dsi)
    page.goto("/gestion/statut/")
    expect(page.get_by_role("heading", level=1)).to_have_text("État des services")
    assert_no_serious_violations(page)

    page.get_by_role("link", name="Déclarer un incident").click()
    assert_no_serious_violations(page)
    # No service ticked (the browser cannot tell): the server's French error, in the form.
    page.get_by_role("textbox", name=re.compile(r"^Titre")).fill(TITLE)
    page.get_by_role("textbox", name=re.compile(r"^Message")).fill(MESSAGE)
    page.get_by_role("button", name="Publier l'incident").click()
    expect(page.get_by_text("Choisissez au moins un service concerné.").first).to_be_visible()
    assert_no_serious_violations(page)

    # A maintenance on a Monday at 8 h: the busy-period warning, then the confirmation.
    assert PeakPeriod.objects.filter(weekday=0).exists()
    page.goto("/gestion/statut/")
    page.get_by_role("link", name="Programmer une maintenance").click()
    page.get_by_role("textbox", name=re.compile(r"^Titre")).fill("Mise à jour de l'ENT")
    page.get_by_role("textbox", name=re.compile(r"^Message")).fill("L'ENT sera arrêté une heure.")
    monday = _next_monday()
    page.get_by_label(re.compile(r"^Début")).fill(f"{monday}T08:00")
    page.get_by_label(re.compile(r"^Fin")).fill(f"{monday}T09:00")
    page.locator("label").get_by_text("ENT Éclat-BFC", exact=True).click()
    page.get_by_role("button", name=re.compile(r"^Programmer")).click()
    expect(page.get_by_text(re.compile(r"période chargée")).first).to_be_visible()
    assert_no_serious_violations(page)
    page.get_by_text("Je maintiens cette date malgré la période chargée", exact=True).click()
    page.get_by_role("button", name=re.compile(r"^Programmer")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("État des services")
    expect(page.get_by_text("Mise à jour de l'ENT").first).to_be_visible()
    assert browser_errors == []


def _next_monday() -> str:
    import datetime as dt

    today = dt.date.today()
    return (today + dt.timedelta(days=7 - today.weekday())).isoformat()
