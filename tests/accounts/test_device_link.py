"""A way in for the real person during a distributed attack on their account.

The attack found: while 50 addresses hammered an account, its owner in a new browser got in
once in 15 tries (Retry-After growing). The owner is now offered a link, e-mailed to the
account's contact address, that makes this browser known; known browsers are never refused by
the account-wide counter. The attacker does not read that mailbox.
"""

from __future__ import annotations

import html
import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from convergence.accounts import throttle
from convergence.accounts.actions.throttle import (
    DEVICE_LINK_REQUESTS_PER_HOUR,
    DEVICE_LINKS_SENT_PER_HOUR,
)
from convergence.accounts.events import DEVICE_APPROVED, DEVICE_LINK_REQUESTED
from convergence.audit.models import AuditEvent

HOME = "203.0.113.10"
WRONG = "Pas-Le-Bon-Mot-De-Passe-1"
LINK = re.compile(r"https?://[^\s]+/connexion/navigateur/[^\s/]+/")

pytestmark = pytest.mark.usefixtures("immediate_tasks")


@pytest.fixture(autouse=True)
def frozen_clock(clock):
    """The attack and the owner's attempt at one instant, however slow the machine."""
    return clock


def attempt(client, login, password, ip):
    return client.post("/connexion/", {"login": login, "password": password}, REMOTE_ADDR=ip)


def distributed_attack(login, count=None):
    """Wrong passwords on ``login`` from many addresses, one each."""
    for n in range(count or settings.THROTTLE_ACCOUNT_FREE + 1):
        response = attempt(Client(), login, WRONG, f"198.51.100.{n + 1}")
        assert response.status_code == 200


def without_tokens(response) -> str:
    """The page without its CSRF tokens (random for every page)."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", page)


def link_in(message) -> str:
    (url,) = LINK.findall(message.body)
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_the_owner_refused_in_a_new_browser_is_offered_a_link(parent):
    distributed_attack(parent.login)
    response = attempt(Client(), parent.login, parent.demo_password, HOME)
    assert response.status_code == 429
    page = html.unescape(response.content.decode())
    assert "Recevoir un lien de connexion par courriel" in page
    assert f'name="login" value="{parent.login}"' in page


def test_the_link_lets_the_owner_in_from_a_new_browser(parent):
    distributed_attack(parent.login)
    browser = Client()
    assert attempt(browser, parent.login, parent.demo_password, HOME).status_code == 429
    mail.outbox.clear()
    sent = browser.post("/connexion/navigateur/", {"login": parent.login}, REMOTE_ADDR=HOME)
    assert sent.status_code == 200
    assert "Vérifiez votre messagerie" in html.unescape(sent.content.decode())
    (message,) = mail.outbox
    assert message.to == [parent.email]
    url = link_in(message)
    assert browser.get(url).status_code == 200  # a button: mail scanners do not post
    done = browser.post(url, REMOTE_ADDR=HOME)
    assert done.status_code == 200
    assert throttle.device_cookie_name() in done.cookies
    response = attempt(browser, parent.login, parent.demo_password, HOME)
    assert response.status_code == 302
    assert browser.session["_auth_user_id"] == str(parent.pk)
    assert AuditEvent.objects.of_type(DEVICE_APPROVED).get().subject_id == parent.pk


def test_opening_the_link_does_not_sign_anyone_in(parent):
    browser = Client()
    browser.post("/connexion/navigateur/", {"login": parent.login}, REMOTE_ADDR=HOME)
    browser.post(link_in(mail.outbox[-1]), REMOTE_ADDR=HOME)
    assert "_auth_user_id" not in browser.session
    assert attempt(browser, parent.login, WRONG, HOME).status_code == 200


def test_a_link_works_once(parent):
    Client().post("/connexion/navigateur/", {"login": parent.login}, REMOTE_ADDR=HOME)
    url = link_in(mail.outbox[-1])
    assert Client().post(url, REMOTE_ADDR=HOME).status_code == 200
    again = Client().post(url, REMOTE_ADDR=HOME)
    assert again.status_code == 400
    assert throttle.device_cookie_name() not in again.cookies


def test_a_link_dies_when_the_password_changes(parent):
    Client().post("/connexion/navigateur/", {"login": parent.login}, REMOTE_ADDR=HOME)
    url = link_in(mail.outbox[-1])
    parent.set_password("Un-Tout-Nouveau-Mot-De-Passe-42")
    parent.save(update_fields=["password"])
    assert Client().post(url, REMOTE_ADDR=HOME).status_code == 400


def test_a_forged_link_is_refused(parent):
    response = Client().post("/connexion/navigateur/faux-jeton/", REMOTE_ADDR=HOME)
    assert response.status_code == 400


def test_unknown_and_known_identifiers_get_the_same_page(parent):
    known = Client().post("/connexion/navigateur/", {"login": parent.login}, REMOTE_ADDR=HOME)
    unknown = Client().post(
        "/connexion/navigateur/", {"login": "personne.inconnue"}, REMOTE_ADDR=HOME
    )
    assert known.status_code == unknown.status_code == 200
    assert without_tokens(known) == without_tokens(unknown)
    assert AuditEvent.objects.of_type(DEVICE_LINK_REQUESTED).count() == 2


def test_link_requests_are_limited_per_identifier_and_address_alike(parent):
    for login in (parent.login, "personne.inconnue"):
        statuses = [
            Client().post("/connexion/navigateur/", {"login": login}, REMOTE_ADDR=HOME).status_code
            for _ in range(DEVICE_LINK_REQUESTS_PER_HOUR + 1)
        ]
        assert statuses[-1] == 429
        assert statuses.count(200) == DEVICE_LINK_REQUESTS_PER_HOUR


def test_strangers_cannot_flood_the_owner_s_mailbox(parent):
    mail.outbox.clear()
    for n in range(DEVICE_LINKS_SENT_PER_HOUR + 4):
        Client().post(
            "/connexion/navigateur/", {"login": parent.login}, REMOTE_ADDR=f"198.51.100.{n}"
        )
    assert len(mail.outbox) == DEVICE_LINKS_SENT_PER_HOUR
