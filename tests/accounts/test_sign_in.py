"""Sign-in at /connexion/: who gets in, with what, what they see, and how it ends."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from convergence.accounts.models import AccountState, User
from tests.conftest import demo_people
from tests.helpers import has_totp, pass_second_factor, text_of
from tests.helpers import post_sign_in as sign_in

MISMATCH = "Identifiant ou mot de passe incorrect."
WRITES = ("INSERT", "UPDATE", "DELETE")


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def demo_user(key: str) -> User:
    person = demo_people()[key]
    user = User.objects.get(first_name=person["first_name"], last_name=person["last_name"])
    user.demo_password = person.get("password", "")
    return user


PEOPLE_WITH_PASSWORD = [key for key, person in demo_people().items() if person.get("password")]


@pytest.mark.parametrize("key", PEOPLE_WITH_PASSWORD)
def test_every_demo_person_signs_in_with_login_and_lands_on_the_dashboard(client, demo, key):
    user = demo_user(key)
    response = sign_in(client, user.login, user.demo_password)
    if has_totp(user):
        # Direction, administratifs, référents, DSI: the second factor after the password.
        assert response.status_code == 302
        assert response.url == reverse("mfa_authenticate")
        assert signed_in_user_id(client) is None
        response = pass_second_factor(client, user)
    assert response.status_code == 302
    assert response.url == "/"
    assert signed_in_user_id(client) == str(user.pk)
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert f"Bonjour {user.first_name}" in text_of(dashboard)


def test_login_is_read_without_case(client, pupil):
    response = sign_in(client, pupil.login.upper(), pupil.demo_password)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(pupil.pk)


def test_parent_signs_in_with_email(client, parent):
    assert parent.email == "karim.martin@exemple.fr"
    response = sign_in(client, "karim.martin@exemple.fr", parent.demo_password)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(parent.pk)


def test_staff_signs_in_with_academic_email(client, teacher):
    response = sign_in(client, "sophie.bernard@ac-besancon.fr", teacher.demo_password)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(teacher.pk)


def test_email_is_read_without_case(client, parent):
    response = sign_in(client, "Karim.Martin@Exemple.fr", parent.demo_password)
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(parent.pk)


def test_invited_pupil_without_password_cannot_sign_in(client, invited_pupil):
    assert invited_pupil.state == AccountState.INVITED
    response = sign_in(client, invited_pupil.login, "Girafe-Orange-Velo-71")
    assert response.status_code == 200
    assert signed_in_user_id(client) is None
    assert MISMATCH in text_of(response)


def test_invited_pupil_cannot_sign_in_even_with_a_password(client, invited_pupil):
    invited_pupil.set_password("Lanterne-Brouillard-Quartz-93")
    invited_pupil.save(update_fields=["password"])
    sign_in(client, invited_pupil.login, "Lanterne-Brouillard-Quartz-93")
    assert signed_in_user_id(client) is None
    assert client.get("/").status_code == 302


def test_suspended_account_cannot_sign_in(client, pupil):
    User.objects.filter(pk=pupil.pk).update(state=AccountState.SUSPENDED)
    sign_in(client, pupil.login, pupil.demo_password)
    assert signed_in_user_id(client) is None


def test_wrong_password_is_refused_with_the_uniform_message(client, pupil):
    response = sign_in(client, pupil.login, "Pas-Le-Bon-Mot-De-Passe-1")
    assert response.status_code == 200
    assert MISMATCH in text_of(response)
    assert signed_in_user_id(client) is None


def test_unknown_account_gets_the_same_answer_as_a_wrong_password(client, pupil):
    wrong = sign_in(client, pupil.login, "Pas-Le-Bon-Mot-De-Passe-1")
    unknown = sign_in(Client(), "personne.inconnue", "Pas-Le-Bon-Mot-De-Passe-1")
    assert unknown.status_code == wrong.status_code == 200
    assert MISMATCH in text_of(unknown)
    assert MISMATCH in text_of(wrong)
    assert wrong.context["form"].errors == unknown.context["form"].errors


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client, parent):
    wrong = sign_in(client, parent.email, "Pas-Le-Bon-Mot-De-Passe-1")
    unknown = sign_in(Client(), "personne@exemple.fr", "Pas-Le-Bon-Mot-De-Passe-1")
    assert unknown.status_code == wrong.status_code
    assert wrong.context["form"].errors == unknown.context["form"].errors


def test_sign_in_page_keeps_the_typed_login_after_a_failure(client, pupil):
    response = sign_in(client, pupil.login, "Pas-Le-Bon-Mot-De-Passe-1")
    assert f'value="{pupil.login}"' in response.content.decode()
    assert "Pas-Le-Bon-Mot-De-Passe-1" not in response.content.decode()


def test_sign_in_returns_to_the_requested_page(client, pupil):
    response = client.post(
        "/connexion/?next=/compte/",
        {"login": pupil.login, "password": pupil.demo_password, "next": "/compte/"},
    )
    assert response.status_code == 302
    assert response.url == "/compte/"


def test_sign_in_does_not_redirect_to_another_site(client, pupil):
    response = client.post(
        "/connexion/",
        {"login": pupil.login, "password": pupil.demo_password, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert "evil.example" not in response.url


def test_get_on_sign_out_does_not_sign_out(client, pupil):
    client.force_login(pupil)
    response = client.get("/deconnexion/")
    assert response.status_code == 200
    assert signed_in_user_id(client) == str(pupil.pk)
    assert client.get("/").status_code == 200


def test_post_on_sign_out_signs_out_to_the_sign_in_page(client, pupil):
    client.force_login(pupil)
    response = client.post("/deconnexion/")
    assert response.status_code == 302
    assert response.url == "/connexion/"
    assert signed_in_user_id(client) is None
    assert client.get("/").status_code == 302


def test_old_session_no_longer_authenticates_after_sign_out(client, pupil):
    sign_in(client, pupil.login, pupil.demo_password)
    old_session = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get("/").status_code == 200
    client.post("/deconnexion/")

    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_session
    response = replay.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/connexion/")


def test_session_key_changes_at_sign_in(client, pupil):
    client.get("/connexion/")
    client.session.save()
    before = client.session.session_key
    sign_in(client, pupil.login, pupil.demo_password)
    assert client.session.session_key != before


def test_sign_in_page_without_profile_explains_each_profile(client, demo):
    page = text_of(client.get("/connexion/"))
    assert "Votre adresse électronique, ou l'identifiant figurant sur la lettre" in page
    assert "Votre identifiant académique figure sur la lettre" in page
    assert "Votre identifiant académique (par exemple mmartin)" in page


def test_parent_profile_shows_the_parent_help(client, demo):
    response = client.get("/connexion/?profil=parent")
    assert response.status_code == 200
    page = text_of(response)
    assert (
        "Votre adresse électronique, ou l'identifiant figurant sur la lettre remise par "
        "l'établissement de votre enfant."
    ) in page
    assert "Votre identifiant académique figure sur la lettre" not in page
    assert '<input type="hidden" name="profil" value="parent">' in response.content.decode()


def test_unknown_profile_is_ignored(client, demo):
    response = client.get("/connexion/?profil=pirate")
    assert response.status_code == 200
    assert 'name="profil"' not in response.content.decode()


def test_sign_in_page_states_the_official_address(client, demo):
    page = text_of(client.get("/connexion/", HTTP_HOST="127.0.0.1:8000"))
    assert "Adresse officielle du portail : <strong>127.0.0.1:8000</strong>." in page


def test_sign_in_page_warns_when_not_served_at_the_official_host(client, demo):
    page = text_of(client.get("/connexion/", HTTP_HOST="localhost"))
    assert "n'est pas servie à l'adresse officielle" in page


def test_sign_in_page_does_not_warn_at_the_official_host(client, demo):
    page = text_of(client.get("/connexion/", HTTP_HOST="127.0.0.1:8000"))
    assert "n'est pas servie à l'adresse officielle" not in page


def test_successful_sign_in_writes_few_rows(client, pupil):
    client.get("/connexion/")  # the académie is read and cached, as on a warm server
    with CaptureQueriesContext(connection) as captured:
        response = sign_in(client, pupil.login, pupil.demo_password)
    assert response.status_code == 302
    writes = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith(WRITES)
    ]
    # The audit row and, unless sessions live in the cache (Redis), the session row, which
    # carries the device "Mes appareils" shows.
    limit = 1 if settings.SESSION_ENGINE.endswith(".cache") else 2
    assert len(writes) <= limit, writes


# --- The profile chooser -----------------------------------------------------------------


def test_sign_in_page_says_what_the_profile_chooser_is_for(client, demo):
    page = text_of(client.get("/connexion/"))
    assert "Votre profil indique quel identifiant saisir." in page


def test_staff_are_told_their_academic_address(client, demo):
    page = text_of(client.get("/connexion/?profil=personnel"))
    assert "ou votre adresse académique (prénom.nom@ac-besancon.fr)." in page


def test_a_refused_attempt_recalls_the_chosen_profile_and_its_identifier(client, demo):
    response = client.post(
        "/connexion/", {"login": "lea.martin", "password": "pas-le-bon", "profil": "personnel"}
    )
    page = text_of(response)
    assert MISMATCH in page
    assert "Vous avez choisi le profil « Personnel »." in page
    assert "ou votre adresse académique (prénom.nom@ac-besancon.fr)." in page
    assert "Ce n'est pas votre profil ? Choisissez le vôtre ci-dessus" in page


def test_the_recall_tells_nothing_about_the_account(client, demo, pupil):
    def refused(login: str) -> str:
        response = Client().post(
            "/connexion/", {"login": login, "password": "pas-le-bon", "profil": "personnel"}
        )
        page = text_of(response)
        return page.split('id="rappel-profil"', 1)[1].split("</div>", 1)[0]

    assert refused(pupil.login) == refused("personne-inconnue")


def test_without_a_chosen_profile_a_refusal_recalls_nothing(client, demo):
    page = text_of(client.post("/connexion/", {"login": "x", "password": "pas-le-bon"}))
    assert MISMATCH in page
    assert 'id="rappel-profil"' not in page


def test_a_pupil_who_chose_personnel_still_signs_in(client, pupil):
    response = client.post(
        "/connexion/",
        {"login": pupil.login, "password": pupil.demo_password, "profil": "personnel"},
    )
    assert response.status_code == 302
    assert signed_in_user_id(client) == str(pupil.pk)


def test_refused_sign_in_links_to_the_guide_of_its_code_whatever_the_account(client, pupil):
    wrong = sign_in(client, pupil.login, "Pas-Le-Bon-Mot-De-Passe-1")
    unknown = sign_in(Client(), "personne.inconnue", "Pas-Le-Bon-Mot-De-Passe-1")
    link = '<a href="/aide/erreurs/CONV-401-CONNEXION/">CONV-401-CONNEXION</a>'
    assert link in text_of(wrong)
    assert link in text_of(unknown)
    guide = Client().get("/aide/erreurs/CONV-401-CONNEXION/")
    assert guide.status_code == 200
    assert 'href="/aide/guides/mot-de-passe-oublie/"' in text_of(guide)


def test_sign_in_page_shows_no_code_before_an_attempt(client, demo):
    assert "CONV-401-CONNEXION" not in text_of(client.get("/connexion/"))
