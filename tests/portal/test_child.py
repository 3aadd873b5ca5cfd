"""A parent's page about one child: school, class, the child's services, the account's state
and whom to contact — never network details, and never another family's child."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from convergence.accounts.models import Guardianship
from convergence.audit.models import AuditEvent
from tests.helpers import text_of

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def child_url(child) -> str:
    return reverse("portal:child", args=[child.pk])


@pytest.fixture
def karim(client, parent):
    client.force_login(parent)
    return parent


def test_parent_sees_school_class_and_services_of_the_child(client, karim, pupil):
    text = text_of(client.get(child_url(pupil)))
    assert "Léa Martin" in text
    assert "Classe de 4e B, Collège Victor Hugo, Besançon (Doubs)" in text
    assert "CDI du collège Victor Hugo" in text
    assert "Transports scolaires du Doubs" in text
    assert "Le compte est activé." in text


def test_parent_is_told_whom_to_contact(client, karim, pupil, referent):
    text = text_of(client.get(child_url(pupil)))
    assert "Julien Moreau, référent numérique" in text


def test_child_page_shows_no_network_detail(client, karim, pupil):
    browser = Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=FIREFOX)
    signed_in = browser.post("/connexion/", {"login": pupil.login, "password": pupil.demo_password})
    assert signed_in.status_code == 302  # a session with Léa's address and browser exists
    content = client.get(child_url(pupil)).content.decode()
    assert "203.0.113" not in content
    assert "Firefox" not in content
    assert "Gecko" not in content


def test_a_child_not_yet_activated_is_explained(client, karim, invited_pupil):
    Guardianship.objects.create(parent=karim, pupil=invited_pupil)
    text = text_of(client.get(child_url(invited_pupil)))
    assert "Le compte de Hugo n'est pas encore activé" in text
    assert "lettre d'activation" in text


def test_another_familys_child_is_not_found_and_the_refusal_audited(client, karim, invited_pupil):
    assert client.get(child_url(invited_pupil)).status_code == 404
    event = AuditEvent.objects.get(event_type="access.refused")
    assert event.data["kind"] == "child_page"


def test_a_pupil_cannot_open_a_child_page(client, pupil, pupil_in_dole):
    client.force_login(pupil)
    assert client.get(child_url(pupil_in_dole)).status_code == 404


def test_child_page_requires_sign_in(client, pupil):
    response = client.get(child_url(pupil))
    assert response.status_code == 302
    assert response.url.startswith("/connexion/")
