"""In a browser: a pupil activates their account from the letter on a phone, by keyboard; a
référent follows a letter batch's progress; axe finds nothing serious on these pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from convergence.accounts import actions
from convergence.core.models import Establishment
from convergence.provisioning.models import JobState, LetterAudience, LetterBatch

from .conftest import PHONE_VIEWPORT, NewPage, login_field, password_field
from .test_accessibility import assert_no_serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

NEW_PASSWORD = "Baleine-Cerf-Grenade-Lampe-17"


def test_pupil_activates_from_the_letter_on_a_phone(new_page: NewPage, invited_pupil: Any) -> None:
    code, _expires = actions.issue_activation_code(acting_user=None, user=invited_pupil)
    page = new_page(viewport=PHONE_VIEWPORT)
    page.goto("/activation/?identifiant=hlambert")  # what the letter's QR code opens
    expect(page.get_by_role("heading", level=1)).to_have_text("Activer mon compte")
    expect(page.get_by_role("textbox", name=re.compile("^Identifiant"))).to_have_value("hlambert")
    assert_no_serious_violations(page)

    # The code field has the focus: the login came with the address.
    expect(page.get_by_role("textbox", name=re.compile("^Code d'activation"))).to_be_focused()
    page.keyboard.type(code.lower())
    page.keyboard.press("Tab")
    birth_date = page.get_by_label(re.compile("^Date de naissance"))
    expect(birth_date).to_be_focused()
    # The order of the date's parts follows the browser's locale: fill() is independent of it.
    birth_date.fill("2014-07-01")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Choisir mon mot de passe")
    assert_no_serious_violations(page)
    page.get_by_label("Nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
    expect(page.locator("#force-mot-de-passe")).to_contain_text("Solidité")
    page.get_by_label("Confirmez le mot de passe", exact=True).fill(NEW_PASSWORD)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Votre compte est activé")
    assert_no_serious_violations(page)
    page.get_by_role("button", name="Terminer et me connecter").click()

    expect(page.get_by_text("Votre compte est activé. Connectez-vous")).to_be_visible()
    login_field(page).fill("hlambert")
    password_field(page).fill(NEW_PASSWORD)
    password_field(page).press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Hugo")


def force_sign_in(page: Page, user: Any, live_server: Any) -> None:
    """Sign a staff member in without the second factor the sign-in page would ask for."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def test_referent_follows_a_batch_until_its_download(
    page: Page, referent: Any, settings: Any, tmp_path: Any, live_server: Any
) -> None:
    settings.VAR_DIR = tmp_path
    college = Establishment.objects.get(uai="0250013D")
    batch = LetterBatch.objects.create(
        establishment=college,
        audience=LetterAudience.ELEVES,
        requested_by=referent,
        state=JobState.RUNNING,
        total=1200,
        done=312,
    )
    force_sign_in(page, referent, live_server)
    page.goto(f"/gestion/lettres/{batch.pk}/")
    # 1 200 with a narrow no-break space, as French writes thousands.
    expect(page.locator("#compte-lettres")).to_have_text(re.compile(r"^312 / 1\s?200 lettres$"))
    assert_no_serious_violations(page)

    (tmp_path / "letters").mkdir()
    (tmp_path / "letters" / f"{batch.pk}.pdf").write_bytes(b"%PDF-1.4\n")
    LetterBatch.objects.filter(pk=batch.pk).update(
        state=JobState.DONE, done=1200, file_path=f"letters/{batch.pk}.pdf"
    )
    # htmx polls every 2 seconds; the link appears without reloading the page.
    expect(page.get_by_role("link", name="Télécharger le PDF")).to_be_visible()


def test_management_pages_have_no_serious_accessibility_violation(
    page: Page, referent: Any, pupil: Any, live_server: Any
) -> None:
    force_sign_in(page, referent, live_server)
    page.goto("/gestion/comptes/?q=martin")
    expect(page.get_by_role("link", name="Martin Léa")).to_be_visible()
    assert_no_serious_violations(page)
    page.get_by_role("link", name="Martin Léa").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Léa Martin")
    assert_no_serious_violations(page)
    page.goto("/gestion/lettres/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lettres d'activation")
    assert_no_serious_violations(page)
