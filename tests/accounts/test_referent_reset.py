"""A référent numérique (or the DSI) gives a pupil a temporary password, within delegation."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.contrib.auth import password_validation
from django.core import mail
from django.test import Client

from convergence.accounts import events
from convergence.accounts.actions.recovery import generate_temporary_password
from convergence.accounts.models import User
from convergence.audit.models import AuditEvent
from tests.helpers import client_of as signed_in

SHOWN = re.compile(r'id="mot-de-passe-provisoire">([^<]+)</code>')


def url_for(account: User) -> str:
    return f"/gestion/comptes/{account.pk}/mot-de-passe/"


def shown_password(response: Any) -> str:
    found = SHOWN.search(response.content.decode())
    assert found, "no temporary password on the page"
    return html.unescape(found.group(1))


def test_referent_resets_a_pupil_of_their_establishment(
    referent: User, pupil: User, django_capture_on_commit_callbacks: Any
) -> None:
    client = signed_in(referent)
    assert client.get(url_for(pupil)).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url_for(pupil))

    assert response.status_code == 200
    password = shown_password(response)
    pupil.refresh_from_db()
    assert pupil.check_password(password)
    assert not pupil.check_password(pupil.demo_password)
    assert "no-store" in response.headers["Cache-Control"]


def test_confirmation_page_changes_nothing(referent: User, pupil: User) -> None:
    signed_in(referent).get(url_for(pupil))

    pupil.refresh_from_db()
    assert pupil.check_password(pupil.demo_password)
    assert not AuditEvent.objects.filter(event_type=events.PASSWORD_RESET_BY_REFERENT.code)


def test_reset_is_audited_with_actor_and_subject(referent: User, pupil: User) -> None:
    response = signed_in(referent).post(url_for(pupil))

    event = AuditEvent.objects.get(event_type=events.PASSWORD_RESET_BY_REFERENT.code)
    assert (event.actor, event.subject) == (referent, pupil)
    assert shown_password(response) not in str(event.data)


@pytest.mark.usefixtures("immediate_tasks")  # the notification e-mail, sent by the worker
def test_guardians_are_told_by_email(
    referent: User, pupil: User, parent: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(referent).post(url_for(pupil))

    [message] = mail.outbox
    assert message.to == ["karim.martin@exemple.fr"]
    assert "Léa Martin" in message.subject
    assert referent.get_full_name() in message.body
    assert pupil.login in message.body
    assert shown_password(response) not in message.body


def test_referent_of_another_establishment_gets_404(referent: User, pupil_in_dole: User) -> None:
    client = signed_in(referent)

    assert client.get(url_for(pupil_in_dole)).status_code == 404
    assert client.post(url_for(pupil_in_dole)).status_code == 404
    pupil_in_dole.refresh_from_db()
    assert pupil_in_dole.check_password(pupil_in_dole.demo_password)
    assert mail.outbox == []


def test_unknown_account_gets_the_same_404(referent: User) -> None:
    assert signed_in(referent).get("/gestion/comptes/999999/mot-de-passe/").status_code == 404


def test_referent_cannot_reset_a_teacher(referent: User, teacher: User) -> None:
    assert signed_in(referent).post(url_for(teacher)).status_code == 404


def test_dsi_resets_a_pupil_anywhere(dsi: User, pupil_in_dole: User) -> None:
    response = signed_in(dsi).post(url_for(pupil_in_dole))

    pupil_in_dole.refresh_from_db()
    assert pupil_in_dole.check_password(shown_password(response))


def test_other_staff_are_refused(teacher: User, pupil: User) -> None:
    assert signed_in(teacher).post(url_for(pupil)).status_code == 403
    pupil.refresh_from_db()
    assert pupil.check_password(pupil.demo_password)


def test_anonymous_people_are_sent_to_sign_in(pupil: User) -> None:
    response = Client().post(url_for(pupil))

    assert response.status_code == 302
    assert response.url.startswith("/connexion/")


def test_form_needs_its_csrf_token(referent: User, pupil: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(referent)

    assert client.post(url_for(pupil)).status_code == 403
    pupil.refresh_from_db()
    assert pupil.check_password(pupil.demo_password)


def test_invited_account_cannot_be_reset(referent: User, invited_pupil: User) -> None:
    stored = invited_pupil.password

    response = signed_in(referent).post(url_for(invited_pupil))

    assert response.status_code == 409
    assert "lettre d'activation" in html.unescape(response.content.decode())
    invited_pupil.refresh_from_db()
    assert invited_pupil.password == stored
    assert not AuditEvent.objects.filter(event_type=events.PASSWORD_RESET_BY_REFERENT.code)


def test_reset_signs_the_pupil_out_everywhere(referent: User, pupil: User) -> None:
    pupil_browser = Client()
    login = {"login": pupil.login, "password": pupil.demo_password}
    assert pupil_browser.post("/connexion/", login).status_code == 302

    signed_in(referent).post(url_for(pupil))

    assert pupil_browser.get("/compte/").status_code == 302


def test_pupil_signs_in_with_the_temporary_password(referent: User, pupil: User) -> None:
    password = shown_password(signed_in(referent).post(url_for(pupil)))

    client = Client()
    assert (
        client.post("/connexion/", {"login": pupil.login, "password": password}).status_code == 302
    )
    assert client.get("/compte/").status_code == 200


@pytest.mark.parametrize("person", ["pupil", "teacher"])
def test_temporary_passwords_meet_the_policy(person: str, request: pytest.FixtureRequest) -> None:
    user = request.getfixturevalue(person)
    for _ in range(20):
        password = generate_temporary_password(user)
        password_validation.validate_password(password, user)
        assert not set(password) & set("Il1O0")
