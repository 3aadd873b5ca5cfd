"""The centre, the preferences page and the bell's count, with the test client."""

from __future__ import annotations

from typing import Any

from django.test import Client

from convergence.core.notify import Category, notify
from convergence.notifications.models import Notification, Preference
from tests.helpers import client_of, text_of

BADGE = "/notifications/compteur/"


def test_the_badge_counts_unread_and_answers_304_while_nothing_changed(
    teacher: Any, django_assert_max_num_queries: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = client_of(teacher)
    first = client.get(BADGE)
    assert first.status_code == 200 and 'hx-trigger="every 30s"' in first.content.decode()
    assert first["Cache-Control"] in ("private, no-cache", "no-cache, private")
    etag = first["ETag"]

    again = client.get(BADGE, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""

    with django_capture_on_commit_callbacks(execute=True):
        notify([teacher], category=Category.ANNONCES, title="Réunion")
    changed = client.get(BADGE, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert '>1<span class="fr-sr-only"> à lire</span>' in changed.content.decode()
    # Nothing changed since: the count comes from the cache; the database is asked at most
    # for the session (none with sessions in Redis) and the person.
    with django_assert_max_num_queries(2) as queries:
        assert client.get(BADGE, HTTP_IF_NONE_MATCH=changed["ETag"]).status_code == 304
    assert not [query for query in queries if "notifications_" in query["sql"]]


def test_the_badge_is_empty_for_a_visitor(db: None) -> None:
    response = Client().get(BADGE)
    assert response.status_code == 200 and response.content == b""


def test_the_bell_is_in_the_header_of_a_signed_in_person(teacher: Any) -> None:
    """The count is in the page itself (no request more on a first visit), and the fragment
    polls its own address afterwards."""
    notify([teacher], category=Category.ANNONCES, title="Conseil pédagogique")
    page = client_of(teacher).get("/").content.decode()
    assert 'id="header-link-notifications"' in page and BADGE in page
    assert 'hx-trigger="every 30s"' in page
    assert '>1<span class="fr-sr-only"> à lire</span>' in page


def test_the_centre_lists_filters_and_marks_read(teacher: Any) -> None:
    notify([teacher], category=Category.ANNONCES, title="Conseil pédagogique", url="/aide/")
    notify([teacher], category=Category.INCIDENTS, title="Maintenance de l'ENT")
    client = client_of(teacher)
    page = text_of(client.get("/notifications/"))
    assert "Conseil pédagogique" in page and "Maintenance de l'ENT" in page
    only = text_of(client.get("/notifications/?categorie=incidents"))
    assert "Maintenance de l'ENT" in only and "Conseil pédagogique" not in only

    announcement = Notification.objects.get(category=Category.ANNONCES)
    opened = client.post(f"/notifications/{announcement.pk}/ouvrir/")
    assert opened.status_code == 302 and opened["Location"] == "/aide/"
    unread = text_of(client.get("/notifications/?non-lues=1"))
    assert "Conseil pédagogique" not in unread and "Maintenance de l'ENT" in unread

    response = client.post("/notifications/tout-lire/", {"retour": "https://ailleurs.example/"})
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    assert not Notification.objects.of(teacher).unread().exists()


def test_the_centre_is_paginated(teacher: Any) -> None:
    for number in range(25):
        notify([teacher], category=Category.SERVICES, title=f"Service {number}")
    client = client_of(teacher)
    assert "Service 24" in text_of(client.get("/notifications/"))
    second = text_of(client.get("/notifications/?categorie=services&page=2"))
    assert "Service 0" in second and "Service 24" not in second


def test_one_cannot_read_or_open_someone_elses_notification(teacher: Any, pupil: Any) -> None:
    notify([pupil], category=Category.ASSISTANCE, title="Votre demande", url="/assistance/")
    theirs = Notification.objects.of(pupil).get()
    client = client_of(teacher)
    assert client.post(f"/notifications/{theirs.pk}/lue/").status_code == 404
    assert client.post(f"/notifications/{theirs.pk}/ouvrir/").status_code == 404
    assert "Votre demande" not in text_of(client.get("/notifications/"))
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.get(f"/notifications/{theirs.pk}/lue/").status_code == 405


def test_pages_need_a_signed_in_person(db: None) -> None:
    for url in ("/notifications/", "/notifications/preferences/"):
        response = Client().get(url)
        assert response.status_code == 302 and "/connexion/" in response["Location"]


def test_the_preferences_page_saves_the_grid_and_locks_security(teacher: Any) -> None:
    client = client_of(teacher)
    page = text_of(client.get("/notifications/preferences/"))
    assert "ne peuvent pas être désactivés" in page
    assert 'name="pref_securite_email"' not in page
    response = client.post(
        "/notifications/preferences/",
        {
            "pref_annonces_portal": "on",
            "pref_incidents_email": "on",
            "pref_securite_email": "",  # ignored: there is no such field
            "calme_debut": "21",
            "calme_fin": "6",
            "courriels": "immediate",
            "heure_recapitulatif": "8",
        },
    )
    assert response.status_code == 302
    chosen = dict(
        Preference.objects.filter(person=teacher)
        .values_list("category", "enabled")
        .filter(channel="email")
    )
    assert chosen["incidents"] is True and chosen["annonces"] is False
    assert "securite" not in chosen
    settings = teacher.notification_settings
    assert (settings.quiet_from, settings.quiet_to, settings.weekends_quiet) == (21, 6, False)


def test_the_preferences_page_refuses_bad_hours_in_french(teacher: Any) -> None:
    response = client_of(teacher).post(
        "/notifications/preferences/",
        {
            "calme_debut": "25",
            "calme_fin": "6",
            "courriels": "immediate",
            "heure_recapitulatif": "8",
        },
    )
    assert response.status_code == 200
    assert "Certains réglages ne sont pas valides" in text_of(response)


def test_the_centre_says_what_became_of_each_notifications_email_and_push(
    teacher: Any,
) -> None:
    """The preferences at work, visible: the staff's default digest against immediate mail."""
    from convergence.notifications.models import EmailState, PushState

    notify([teacher], category=Category.ANNONCES, title="Réunion de rentrée")
    notify([teacher], category=Category.SECURITE, title="Nouvel appareil connecté")
    Notification.objects.filter(title="Nouvel appareil connecté").update(
        email_state=EmailState.SENT, push_state=PushState.NONE
    )
    page = text_of(client_of(teacher).get("/notifications/"))
    assert "Dans le prochain récapitulatif" in page  # annonces: the staff's 17 h digest
    assert "Courriel envoyé" in page
    assert "Aucune notification sur l'appareil" in page  # no device subscribed
