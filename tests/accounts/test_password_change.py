"""Changing one's password: the current one is asked, the policy applies, the change is audited."""

from __future__ import annotations

import pytest
from django.test import Client

from convergence.accounts import events
from convergence.accounts.models import User
from convergence.audit.models import AuditEvent
from tests.helpers import text_of

URL = "/compte/mot-de-passe/"
STRENGTH_URL = "/compte/mot-de-passe/force/"
GOOD = "Lanterne-Brouillard-Quartz-93"
WEAK = "azerty1234"


def change(client, old, new, confirmation=None, **extra):
    confirmation = new if confirmation is None else confirmation
    return client.post(
        URL, {"oldpassword": old, "password1": new, "password2": confirmation}, **extra
    )


def password_still(user, password) -> bool:
    return User.objects.get(pk=user.pk).check_password(password)


@pytest.fixture
def signed_in_teacher(client, teacher):
    client.force_login(teacher)
    return teacher


def test_anonymous_visitor_is_sent_to_sign_in(client, demo):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith("/connexion/")


def test_change_page_states_the_policy_of_the_account(client, signed_in_teacher):
    response = client.get(URL)
    assert response.status_code == 200
    assert "Personnels : au moins 12 caractères" in text_of(response)


def test_change_page_states_the_basic_policy_to_a_pupil(client, pupil):
    client.force_login(pupil)
    assert "Élèves et parents : au moins 8 caractères" in text_of(client.get(URL))


def test_wrong_current_password_is_refused_and_nothing_changes(client, signed_in_teacher):
    teacher = signed_in_teacher
    response = change(client, "Pas-Le-Bon-Mot-De-Passe-1", GOOD)
    assert response.status_code == 200
    assert response.context["form"].errors["oldpassword"]
    assert password_still(teacher, teacher.demo_password)
    assert not password_still(teacher, GOOD)
    assert not AuditEvent.objects.of_type(events.PASSWORD_CHANGED).exists()


def test_weak_new_password_is_refused_with_a_french_reason(client, signed_in_teacher):
    teacher = signed_in_teacher
    response = change(client, teacher.demo_password, WEAK)
    assert response.status_code == 200
    page = text_of(response)
    assert "Ce mot de passe fait partie des plus courants" in page
    assert "Ce mot de passe est trop facile à deviner." in page
    assert password_still(teacher, teacher.demo_password)
    assert not AuditEvent.objects.of_type(events.PASSWORD_CHANGED).exists()


def test_password_reusing_the_name_is_refused_with_the_reason(client, signed_in_teacher):
    teacher = signed_in_teacher
    response = change(client, teacher.demo_password, "SophieBernard!85x")
    assert response.status_code == 200
    assert "Il ne doit pas reprendre votre identifiant ni votre nom." in text_of(response)
    assert password_still(teacher, teacher.demo_password)


def test_mismatched_confirmation_is_refused(client, signed_in_teacher):
    teacher = signed_in_teacher
    response = change(client, teacher.demo_password, GOOD, confirmation=GOOD + "x")
    assert response.status_code == 200
    assert response.context["form"].errors["password2"]
    assert password_still(teacher, teacher.demo_password)


def test_good_new_password_is_accepted(client, signed_in_teacher):
    teacher = signed_in_teacher
    response = change(client, teacher.demo_password, GOOD)
    assert response.status_code == 302
    assert password_still(teacher, GOOD)
    assert not password_still(teacher, teacher.demo_password)


def test_password_change_is_audited(client, signed_in_teacher):
    teacher = signed_in_teacher
    change(client, teacher.demo_password, GOOD, REMOTE_ADDR="203.0.113.44")
    (event,) = AuditEvent.objects.of_type(events.PASSWORD_CHANGED)
    assert event.actor_id == teacher.pk
    assert event.subject_id == teacher.pk
    assert event.ip_address == "203.0.113.44"
    assert GOOD not in str(event.data)
    assert teacher.demo_password not in str(event.data)


def test_session_survives_the_password_change(client, signed_in_teacher):
    change(client, signed_in_teacher.demo_password, GOOD)
    assert client.get("/compte/").status_code == 200


def test_new_password_signs_in_and_old_one_no_longer_does(client, signed_in_teacher):
    teacher = signed_in_teacher
    change(client, teacher.demo_password, GOOD)
    old = Client().post("/connexion/", {"login": teacher.login, "password": teacher.demo_password})
    assert old.status_code == 200
    new = Client().post("/connexion/", {"login": teacher.login, "password": GOOD})
    assert new.status_code == 302


def test_strength_meter_labels_a_weak_password_in_french(client, demo):
    response = client.post(STRENGTH_URL, {"password1": WEAK})
    assert response.status_code == 200
    page = text_of(response)
    assert "Solidité : <strong>Très faible</strong>" in page
    assert "conforme à la politique" not in page
    assert "Ce mot de passe fait partie des plus courants" in page


def test_strength_meter_labels_a_good_password_as_meeting_the_policy(client, signed_in_teacher):
    response = client.post(STRENGTH_URL, {"password1": GOOD})
    assert response.status_code == 200
    page = text_of(response)
    assert "Solidité : <strong>Excellent</strong>" in page
    assert "conforme à la politique" in page


def test_strength_meter_applies_the_policy_of_the_signed_in_account(client, pupil):
    # Ten characters of three classes meet the pupils' policy, not the staff's.
    candidate = "Vélo-Tarn9"
    anonymous = text_of(Client().post(STRENGTH_URL, {"password1": candidate}))
    client.force_login(pupil)
    signed_in = text_of(client.post(STRENGTH_URL, {"password1": candidate}))
    assert "conforme à la politique" not in anonymous
    assert "conforme à la politique" in signed_in


def test_strength_meter_shows_nothing_for_an_empty_password(client, demo):
    response = client.post(STRENGTH_URL, {"password1": ""})
    assert response.status_code == 200
    assert "Solidité" not in text_of(response)


def test_strength_meter_never_echoes_the_password(client, demo):
    response = client.post(STRENGTH_URL, {"password1": GOOD})
    assert GOOD not in response.content.decode()


def test_strength_meter_answers_only_post(client, demo):
    assert client.get(STRENGTH_URL, {"password1": WEAK}).status_code == 405
