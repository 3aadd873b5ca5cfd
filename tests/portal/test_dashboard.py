"""The dashboard at /: one's own tiles, a search that htmx refreshes, a bounded query count."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from convergence.portal import actions
from convergence.portal.models import Service
from tests.helpers import text_of

PUPIL_SERVICES = {
    "messagerie",
    "ent",
    "vie-scolaire",
    "educonnect",
    "cdi-victor-hugo",
    "transports-doubs",
}
# Measured: session (database sessions only), user, assignments (once: visibility is shared
# by both lists), favourites, services, the previous sign-in widget.
# "Mes appareils" records a session's activity at most once per SESSION_ACTIVITY_SECONDS
# (accounts/device_tracking.py), so a page seen again costs no query for it; allauth's own
# middleware would add four (savepoint, SELECT, UPDATE, release) to every page.
MAX_DASHBOARD_QUERIES = 7
HTMX = {"HTTP_HX_REQUEST": "true"}


def tile_slugs(response) -> set[str]:
    return set(re.findall(r'<li [^>]*id="service-([a-z0-9-]+)"', response.content.decode()))


def tile_of(response, slug: str) -> str:
    content = response.content.decode()
    start = content.index(f'id="service-{slug}"')
    following = content.find('id="service-', start + 1)
    end = following if following != -1 else content.index("</section>", start)
    return html.unescape(content[start:end])


@pytest.fixture
def signed_in_pupil(client, pupil):
    client.force_login(pupil)
    return pupil


def test_anonymous_visitor_is_sent_to_sign_in(client, demo):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == "/connexion/?next=/"


def test_dashboard_greets_the_pupil(client, signed_in_pupil):
    response = client.get("/")
    assert response.status_code == 200
    assert "Bonjour Léa" in text_of(response)


def test_dashboard_shows_exactly_the_pupils_tiles(client, signed_in_pupil):
    assert tile_slugs(client.get("/")) == PUPIL_SERVICES


def test_dashboard_does_not_show_staff_tiles_to_the_pupil(client, signed_in_pupil):
    content = client.get("/").content.decode()
    for slug in ("arena", "pia", "opale", "supervision", "magistere"):
        assert f'id="service-{slug}"' not in content
    assert "Op@le" not in content


def test_dashboard_shows_the_teachers_tiles(client, teacher):
    client.force_login(teacher)
    visible = tile_slugs(client.get("/"))
    assert {"arena", "magistere"} <= visible
    assert "educonnect" not in visible


def test_search_filters_the_catalogue(client, signed_in_pupil):
    response = client.get("/", {"q": "ent"})
    assert response.status_code == 200
    found = tile_slugs(response)
    assert "ent" in found
    assert "messagerie" not in found
    assert "vie-scolaire" not in found
    assert found <= PUPIL_SERVICES


def test_search_keeps_the_query_in_the_search_box(client, signed_in_pupil):
    response = client.get("/", {"q": "ent"})
    assert '<input class="fr-input" type="search" id="q" name="q" value="ent"' in (
        response.content.decode()
    )


def test_search_counts_its_results_in_french(client, signed_in_pupil):
    response = client.get("/", {"q": "Messagerie"})
    assert tile_slugs(response) == {"messagerie"}
    assert "1 service correspond à « Messagerie »." in text_of(response)


def test_search_without_result_says_so(client, signed_in_pupil):
    response = client.get("/", {"q": "Arena"})
    assert tile_slugs(response) == set()
    assert "Aucun service ne correspond à « Arena »." in text_of(response)
    assert "services correspondent" not in text_of(response)


def test_search_is_not_a_way_to_see_other_profiles_services(client, signed_in_pupil):
    assert tile_slugs(client.get("/", {"q": "Supervision"})) == set()


def test_htmx_search_returns_only_the_catalogue(client, signed_in_pupil):
    response = client.get("/", {"q": "ent", "partial": "catalogue"}, **HTMX)
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert content.lstrip().startswith('<section id="catalogue"')
    assert "ent" in tile_slugs(response)
    assert "messagerie" not in tile_slugs(response)
    assert 'id="favoris-et-catalogue"' not in content


def test_partial_is_ignored_without_htmx(client, signed_in_pupil):
    response = client.get("/", {"q": "ent", "partial": "catalogue"})
    assert "<html" in response.content.decode()


def test_external_service_carries_the_external_badge(client, signed_in_pupil):
    response = client.get("/")
    assert "site externe" in tile_of(response, "cdi-victor-hugo")
    assert "site externe" in tile_of(response, "transports-doubs")


def test_academic_service_carries_no_external_badge(client, signed_in_pupil):
    response = client.get("/")
    assert "site externe" not in tile_of(response, "messagerie")
    assert "site externe" not in tile_of(response, "educonnect")


def test_tiles_open_in_a_new_window_and_say_so(client, signed_in_pupil):
    tile = tile_of(client.get("/"), "ent")
    assert 'target="_blank"' in tile
    assert 'rel="noopener"' in tile
    assert "nouvelle fenêtre" in tile


def test_dashboard_shows_the_previous_sign_in_widget(client, pupil):
    for _ in range(2):
        client.post("/connexion/", {"login": pupil.login, "password": pupil.demo_password})
        client.post("/deconnexion/")
    client.post("/connexion/", {"login": pupil.login, "password": pupil.demo_password})
    response = client.get("/")
    assert response.status_code == 200
    widget_slugs = [widget["slug"] for widget in response.context["widgets"]]
    assert "previous-sign-in" in widget_slugs


def test_dashboard_answers_only_get(client, signed_in_pupil):
    assert client.post("/").status_code == 405


def add_services(count: int) -> list[Service]:
    return [
        Service.objects.create(
            name=f"Service {n}",
            slug=f"service-{n}",
            description="Un service de plus.",
            url=f"https://service-{n}.ac-besancon.fr/",
            category="pedagogie",
            for_everyone=True,
            position=200 + n,
        )
        for n in range(count)
    ]


def dashboard_queries(client) -> int:
    client.get("/")  # warm: the académie row is cached, as on a running server
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/")
    assert response.status_code == 200
    return len(captured)


def test_dashboard_query_count_is_bounded(client, signed_in_pupil, django_assert_max_num_queries):
    for slug in ("ent", "educonnect"):
        actions.pin_service(acting_user=signed_in_pupil, service=Service.objects.get(slug=slug))
    client.get("/")
    with django_assert_max_num_queries(MAX_DASHBOARD_QUERIES):
        assert client.get("/").status_code == 200


def test_dashboard_query_count_does_not_grow_with_services_and_favourites(client, signed_in_pupil):
    pupil = signed_in_pupil
    for slug in ("ent", "educonnect"):
        actions.pin_service(acting_user=pupil, service=Service.objects.get(slug=slug))
    with_two = dashboard_queries(client)

    for service in add_services(10):
        actions.pin_service(acting_user=pupil, service=service)
    page = client.get("/").content.decode()
    assert page.count('class="cv-favourite"') == 12
    assert page.count('id="service-') == len(PUPIL_SERVICES) + 10
    with_twelve = dashboard_queries(client)

    assert with_twelve == with_two
    assert with_twelve <= MAX_DASHBOARD_QUERIES
