"""Passkeys in a real browser: registration, then sign-in without a password.

Chromium's virtual authenticator (DevTools protocol, ``WebAuthn`` domain) stands in for a
phone or a security key: a platform authenticator with resident keys and user verification,
which is what a passkey is. The live server runs on http://localhost, a secure context for
WebAuthn; the relying party is the request's host (accounts/mfa.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from playwright.sync_api import Page, expect

from convergence.audit.models import AuditEvent
from convergence.mfa import events

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def add_virtual_authenticator(page: Page) -> Any:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    result = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, result["authenticatorId"]


def confirm_identity(page: Page, person: Any) -> None:
    """Changing the account's security asks for the password again (allauth's reauthentication)."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirmer votre identité")
    page.get_by_label("Mot de passe", exact=True).fill(person.demo_password)
    page.get_by_role("button", name="Confirmer").click()


def test_passkey_registration_then_passwordless_sign_in(
    page: Page, teacher: Any, browser_errors: list[str]
) -> None:
    cdp, authenticator_id = add_virtual_authenticator(page)
    sign_in(page, teacher)

    page.goto("/compte/securite/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sécurité du compte")
    page.get_by_role("link", name="Ajouter une clé d'accès").click()
    confirm_identity(page, teacher)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ajouter une clé d'accès")
    page.get_by_label("Nom de la clé").fill("Ordinateur du bureau")
    expect(page.get_by_label(re.compile("connexion sans mot de passe"))).to_be_checked()
    page.get_by_role("button", name="Enregistrer la clé d'accès").click()

    # A first factor comes with recovery codes, shown this once.
    expect(page.get_by_role("heading", level=1)).to_have_text("Codes de secours")
    expect(page.locator("#codes li")).to_have_count(10)
    key = Authenticator.objects.get(user=teacher, type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().name == "Ordinateur du bureau"
    assert key.wrap().is_passwordless is True
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(credentials["credentials"]) == 1
    assert AuditEvent.objects.filter(event_type=events.MFA_ENABLED.code, subject=teacher).exists()

    # Signed out (the session cookie is gone), then back with the passkey alone.
    page.context.clear_cookies()
    page.goto("/connexion/")
    expect(page.get_by_label("Mot de passe", exact=True)).to_be_empty()
    page.get_by_role("button", name="Se connecter avec une clé d'accès").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {teacher.first_name}")
    key.refresh_from_db()
    assert key.last_used_at is not None
    assert browser_errors == []


def test_passkey_as_second_factor_after_the_password(
    page: Page, teacher: Any, browser_errors: list[str]
) -> None:
    add_virtual_authenticator(page)
    sign_in(page, teacher)
    page.goto("/compte/securite/webauthn/add/")
    confirm_identity(page, teacher)
    # DSFR draws the box over the input: the label is what a person clicks.
    page.locator("label[for=id_passwordless]").click()
    expect(page.get_by_label(re.compile("connexion sans mot de passe"))).not_to_be_checked()
    page.get_by_role("button", name="Enregistrer la clé d'accès").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Codes de secours")

    page.context.clear_cookies()
    page.goto("/connexion/")
    page.get_by_role("textbox", name=re.compile(r"^Identifiant")).fill(teacher.login)
    page.get_by_label("Mot de passe", exact=True).fill(teacher.demo_password)
    page.get_by_label("Mot de passe", exact=True).press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Second facteur")
    page.get_by_role("button", name="Utiliser une clé d'accès").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {teacher.first_name}")
    assert browser_errors == []
