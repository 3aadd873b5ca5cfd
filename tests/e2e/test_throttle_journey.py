"""In a browser: a father whose account is under a distributed attack gets in from a new browser
with the link he receives by e-mail, by keyboard on a phone; axe finds nothing serious."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from playwright.sync_api import expect

from convergence.accounts import throttle

from .conftest import PHONE_VIEWPORT, NewPage, login_field, password_field
from .test_accessibility import assert_no_serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def distributed_attack(user: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrong passwords on ``user`` from many addresses over the last few minutes, each one
    waiting out its delay: the next attempt from a browser the account does not know must
    then wait about four minutes, however slow the machine running the test."""
    account = throttle.account_key(user.login, user.pk)
    free = settings.THROTTLE_ACCOUNT_FREE
    past_free = 8
    now = time.time()
    elapsed = float(sum(throttle.delay_for(free + n, free) for n in range(past_free + 1)))
    clock = [now - elapsed]
    with monkeypatch.context() as patch:
        patch.setattr(throttle.time, "time", lambda: clock[0])
        for n in range(free + 1 + past_free):
            _verdict, attempt = throttle.begin(
                throttle.PASSWORD, account=account, ip=f"198.51.100.{n}"
            )
            assert attempt is not None
            attempt.failed()
            clock[0] += throttle.delay_for(n + 1, free)


def test_father_under_attack_gets_in_from_a_new_phone_with_the_e_mailed_link(
    new_page: NewPage,
    parent: Any,
    settings: Any,
    browser_errors: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    distributed_attack(parent, monkeypatch)
    page = new_page(viewport=PHONE_VIEWPORT)
    page.goto("/connexion/")
    login_field(page).fill(parent.login)
    password_field(page).fill(parent.demo_password)
    password_field(page).press("Enter")

    expect(page.locator("#erreurs-formulaire")).to_contain_text("votre compte n'est pas bloqué")
    offer = page.get_by_role("button", name="Recevoir un lien de connexion par courriel")
    expect(offer).to_be_visible()
    assert_no_serious_violations(page)
    mail.outbox.clear()
    offer.focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre messagerie")
    assert_no_serious_violations(page)
    (message,) = mail.outbox
    link = re.search(r"https?://\S+/connexion/navigateur/\S+/", message.body)
    assert link
    page.goto(link.group(0))

    expect(page.get_by_role("heading", level=1)).to_have_text("Reconnaître ce navigateur")
    assert_no_serious_violations(page)
    page.get_by_role("button", name="Reconnaître ce navigateur").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Navigateur reconnu")
    assert_no_serious_violations(page)

    page.get_by_role("link", name="Se connecter").click()
    login_field(page).fill(parent.login)
    password_field(page).fill(parent.demo_password)
    password_field(page).press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Karim")
    # The one expected complaint: the refused sign-in answered 429.
    unexpected = [error for error in browser_errors if "status of 429" not in error]
    assert unexpected == []
    assert len(browser_errors) == 1
