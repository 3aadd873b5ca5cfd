"""In a browser: a pupil recovers a forgotten password by SMS on a phone, by keyboard, and a
référent gives a pupil a temporary password; axe finds nothing serious on these pages."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from convergence.outbox.models import SmsMessage
from tests.helpers import totp_code

from .conftest import PHONE_VIEWPORT, NewPage, login_field, password_field
from .test_accessibility import assert_no_serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

NEW_PASSWORD = "Baleine-Cerf-Grenade-Lampe-17"


def test_pupil_recovers_her_password_by_sms_on_a_phone(
    new_page: NewPage, pupil: Any, settings: Any, browser_errors: list[str]
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    pupil.recovery_phone, pupil.recovery_phone_confirmed_at = "+33612345678", timezone.now()
    pupil.save()
    page = new_page(viewport=PHONE_VIEWPORT)
    page.goto("/connexion/")
    page.get_by_role("link", name="Mot de passe oublié ?").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Mot de passe oublié")
    assert_no_serious_violations(page)
    page.get_by_role("textbox", name=re.compile("^Identifiant")).fill(pupil.login)
    page.keyboard.press("Tab")  # to the checked radio: "un lien par courriel"
    page.keyboard.press("ArrowDown")  # "un code par SMS"
    expect(page.get_by_role("radio", name="un code par SMS")).to_be_checked()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Saisir le code reçu par SMS")
    assert_no_serious_violations(page)
    code = re.search(r"\b(\d{6})\b", SmsMessage.objects.get(to="+33612345678").body)
    assert code
    page.keyboard.type(code.group(1))  # the code field has the focus
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Choisir un nouveau mot de passe")
    assert_no_serious_violations(page)
    page.get_by_label("Nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
    expect(page.locator("#force-mot-de-passe")).to_contain_text("Solidité")
    page.get_by_label("Confirmez le nouveau mot de passe", exact=True).fill(NEW_PASSWORD)
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Votre mot de passe a été modifié")
    page.get_by_role("link", name="Se connecter").click()
    login_field(page).fill(pupil.login)
    password_field(page).fill(NEW_PASSWORD)
    password_field(page).press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Léa")
    assert browser_errors == []


def test_referent_gives_a_temporary_password(page: Page, referent: Any, pupil: Any) -> None:
    page.goto("/connexion/")
    login_field(page).fill(referent.login)
    password_field(page).fill(referent.demo_password)
    password_field(page).press("Enter")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile("Second facteur|Bonjour Julien"))
    if heading.inner_text().strip() == "Second facteur":  # the référent's "codes changeants"
        page.get_by_label(re.compile("^Code changeant")).fill(totp_code(referent))
        page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Julien")
    page.goto(f"/gestion/comptes/{pupil.pk}/mot-de-passe/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Réinitialiser le mot de passe de Léa Martin"
    )
    assert_no_serious_violations(page)

    page.get_by_role("button", name="Créer un mot de passe provisoire").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Mot de passe provisoire de Léa Martin"
    )
    assert_no_serious_violations(page)
    shown = page.locator("#mot-de-passe-provisoire").inner_text()
    pupil.refresh_from_db()
    assert pupil.check_password(shown)
