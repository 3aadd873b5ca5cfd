"""The /assistance/ page and the dashboard widget "Besoin d'aide ?"."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from convergence.support import hours
from tests.helpers import text_of

PARIS = ZoneInfo("Europe/Paris")


def words_of(response) -> str:
    """The page's text as read: tags removed, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text_of(response)).split()).replace(" )", ")")


@pytest.fixture
def moment(monkeypatch):
    """Set the moment the pages show the state at (Paris wall time)."""

    def set_to(text: str) -> None:
        when = dt.datetime.fromisoformat(text).replace(tzinfo=PARIS)
        monkeypatch.setattr(hours, "now", lambda: when)

    return set_to


def test_a_teacher_sees_her_referent_by_name_and_the_live_state(client, teacher, moment):
    moment("2026-12-07 10:00")  # a Monday of term
    client.force_login(teacher)
    page = words_of(client.get("/assistance/"))
    assert "Référent numérique de l'établissement" in page
    assert "Julien Moreau (Collège Victor Hugo)" in page
    assert "Ouvert — ferme à 18 h" in page
    assert "Support DSI académique" in page
    assert "Ouvert — ferme à 17 h 30" in page
    # Parents' contacts are not hers.
    assert "Assistance ÉduConnect / ENT" not in page


def test_a_teacher_on_a_public_holiday_sees_the_next_opening(client, teacher, moment):
    moment("2026-11-11 10:00")  # Wednesday, 11 novembre
    client.force_login(teacher)
    page = words_of(client.get("/assistance/"))
    assert "Fermé — ouvre demain à 8 h" in page
    assert "Fermé — ouvre demain à 8 h 30" in page


def test_a_parent_of_the_doubs_sees_the_doubs_hours(client, parent, moment):
    moment("2026-12-09 14:00")  # Wednesday afternoon: the Doubs closes at noon
    client.force_login(parent)
    page = words_of(client.get("/assistance/"))
    assert "Département : Doubs" in page
    assert "Fermé — ouvre demain à 8 h 30" in page
    assert "Mercredi : 8 h 30 – 12 h" in page  # noqa: RUF001
    # His son's lycée is in the Jura, whose hours differ.
    assert "Département : Jura" in page
    assert "Ouvert — ferme à 17 h" in page
    assert "Haute-Saône" not in page
    assert "Support DSI académique" not in page


def test_a_pupil_sees_the_referent_of_her_college(client, pupil, moment):
    moment("2026-12-07 10:00")
    client.force_login(pupil)
    page = words_of(client.get("/assistance/"))
    assert "Julien Moreau (Collège Victor Hugo)" in page
    assert "Ouvert — ferme à 12 h" in page


def test_anonymous_visitors_see_every_contact_by_profile(client, demo, moment):
    moment("2026-12-05 12:00")  # a Saturday
    page = words_of(client.get("/assistance/"))
    for heading in ("Élève", "Parent", "Personnel"):
        assert heading in page
    assert "Département : Haute-Saône" in page
    assert "Fermé — ouvre lundi à 8 h 30" in page
    # Nobody's référent is named to a stranger.
    assert "Julien Moreau" not in page


def test_the_troubleshooters_link_shows_one_profiles_contacts(client, demo, moment):
    moment("2026-12-05 12:00")  # a Saturday
    page = words_of(client.get("/assistance/?profil=parent"))
    assert "Parent" in page and "Fermé — ouvre lundi" in page
    assert "Support DSI académique" not in page
    assert "Voir les contacts de tous les profils" in page
    # An unknown profile shows everyone's.
    assert "Support DSI académique" in words_of(client.get("/assistance/?profil=x"))


def test_the_page_is_open_during_maintenance():
    from convergence.core.open_urls import During, is_open

    assert is_open("/assistance/", During.MAINTENANCE)
    assert is_open("/assistance/", During.ENROLMENT)


def test_the_page_is_in_the_site_map(client, demo):
    assert "Assistance : contacts et horaires" in words_of(client.get("/plan-du-site/"))


def test_the_page_reads_a_bounded_number_of_queries(client, teacher, dsi, parent, moment):
    moment("2026-12-07 10:00")
    counts = []
    for person in (teacher, parent):
        client.force_login(person)
        client.get("/assistance/")  # the session and the cached fragments settle
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/assistance/").status_code == 200
        counts.append(len(captured))
    # Session and account, the audience, the contacts with hours and exceptions, the
    # référents: the same whatever the number of contacts.
    assert max(counts) <= 7, counts


def test_the_widget_shows_the_contacts_and_their_state(client, parent, moment):
    moment("2026-12-09 14:00")
    client.force_login(parent)
    page = words_of(client.get("/"))
    assert "Besoin d'aide ?" in page
    assert "Assistance ÉduConnect / ENT (Doubs)" in page
    assert "Fermé — ouvre demain à 8 h 30" in page
    assert "Tous vos contacts et leurs horaires" in page


def test_the_widget_reads_the_contacts_from_the_cache(client, parent, moment):
    moment("2026-12-09 14:00")
    client.force_login(parent)
    client.get("/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
    assert not any("support_" in query["sql"] for query in captured.captured_queries)


def test_the_widget_follows_a_change_of_hours(client, parent, moment):
    from convergence.support.models import OpeningHours, SupportContact

    moment("2026-12-09 14:00")
    client.force_login(parent)
    client.get("/")
    doubs = SupportContact.objects.get(slug="assistance-ent-doubs")
    OpeningHours.objects.create(contact=doubs, weekday=2, opens=dt.time(13), closes=dt.time(18))
    assert "Ouvert — ferme à 18 h" in words_of(client.get("/"))
