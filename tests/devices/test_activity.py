"""Recent activity ("Activité récente"): the person's own audit trail, naming no one else."""

from __future__ import annotations

import datetime

from django.test import Client

from convergence.accounts import events
from convergence.audit.actions import record_event
from convergence.audit.models import AuditEvent
from convergence.devices import events as devices_events
from tests.helpers import text_of

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


def signed_in_browser(person) -> Client:
    client = Client(HTTP_USER_AGENT=FIREFOX_WINDOWS, REMOTE_ADDR="203.0.113.7")
    response = client.post("/connexion/", {"login": person.login, "password": person.demo_password})
    assert response.status_code == 302, "sign-in failed"
    return client


def test_activity_requires_sign_in(demo, client):
    response = client.get("/compte/activite/")
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")


def test_activity_lists_sign_ins_and_failures_with_browser_and_place(pupil):
    Client(REMOTE_ADDR="198.51.100.9").post(
        "/connexion/", {"login": pupil.login, "password": "pas-le-bon"}
    )
    client = signed_in_browser(pupil)
    page = text_of(client.get("/compte/activite/"))
    assert "Connexion réussie" in page
    assert "Échec de connexion" in page
    assert "Firefox sur Windows" in page
    assert "Internet (adresse 203.0.113.x)" in page
    assert "Internet (adresse 198.51.100.x)" in page
    assert "203.0.113.7" not in page


def test_activity_shows_times_in_paris(pupil):
    client = signed_in_browser(pupil)
    AuditEvent.objects.filter(subject=pupil).update(
        occurred_at=datetime.datetime(2026, 7, 14, 10, 5, tzinfo=datetime.UTC)
    )
    assert "14 juillet 2026 à 12:05" in text_of(client.get("/compte/activite/"))


def test_acts_of_a_referent_are_shown_without_naming_them(pupil, referent):
    record_event(event_type=events.PASSWORD_RESET_BY_REFERENT, actor=referent, subject=pupil)
    client = signed_in_browser(pupil)
    page = text_of(client.get("/compte/activite/"))
    assert "Mot de passe réinitialisé par un référent" in page
    assert "Un référent numérique" in page
    assert referent.last_name not in page
    assert referent.login not in page


def test_acts_of_the_dsi_are_shown_as_the_administration(pupil, dsi):
    record_event(event_type=devices_events.SESSIONS_ENDED_BY_ADMIN, actor=dsi, subject=pupil)
    client = signed_in_browser(pupil)
    page = text_of(client.get("/compte/activite/"))
    assert "Sessions terminées par l'administration" in page
    assert "L'administration" in page
    assert dsi.last_name not in page


def test_activity_shows_only_the_persons_own_events(pupil, parent):
    signed_in_browser(parent)
    record_event(event_type=events.PASSWORD_CHANGED, actor=parent, subject=parent)
    client = signed_in_browser(pupil)
    rows = client.get("/compte/activite/").context["rows"]
    assert {row.event.event_type for row in rows} == {
        events.LOGIN_SUCCEEDED.code,
        events.ACCOUNT_CREATED.code,  # when the demo created her account
    }
    assert all(pupil.pk in (row.event.actor_id, row.event.subject_id) for row in rows)


def test_activity_is_paginated_newest_first(pupil):
    for _ in range(25):
        record_event(event_type=events.LOGIN_FAILED, subject=pupil)
    client = signed_in_browser(pupil)
    first = client.get("/compte/activite/")
    assert len(first.context["rows"]) == 20
    assert first.context["rows"][0].event.event_type == events.LOGIN_SUCCEEDED.code
    assert "Page 1 sur 2" in text_of(first)
    second = client.get("/compte/activite/", {"page": 2})
    assert len(second.context["rows"]) == 7  # 25 failures, the sign-in, the creation
    # A page number out of range or not a number shows a page, never an error.
    assert client.get("/compte/activite/", {"page": "abc"}).status_code == 200
    assert client.get("/compte/activite/", {"page": 99}).context["page"].number == 2


def test_activity_query_count_does_not_grow_with_events(
    pupil, referent, django_assert_max_num_queries
):
    for _ in range(10):
        record_event(event_type=events.PASSWORD_RESET_BY_REFERENT, actor=referent, subject=pupil)
    client = signed_in_browser(pupil)
    client.get("/compte/activite/")
    # Session and user, count and page of events, référents among the page's actors.
    with django_assert_max_num_queries(6):
        assert client.get("/compte/activite/").status_code == 200
