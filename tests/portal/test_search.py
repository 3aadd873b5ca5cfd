"""Services found by what people type: keywords from the blueprint ("mail" → Messagerie),
without case, accents or plurals, best matches first, only among one's own services."""

from __future__ import annotations

import re

import pytest

from convergence.core import search
from convergence.portal.models import Service
from convergence.portal.search import find_services


def found(client, query: str) -> list[str]:
    response = client.get("/", {"q": query})
    assert response.status_code == 200
    return re.findall(r'<li [^>]*id="service-([a-z0-9-]+)"', response.content.decode())


@pytest.fixture
def lea(client, pupil):
    client.force_login(pupil)
    return pupil


@pytest.mark.parametrize("query", ["mail", "webmail", "courriel", "Courriels", "boîte", "BOITE"])
def test_words_for_mail_find_the_messagerie(client, lea, query):
    assert found(client, query) == ["messagerie"]


@pytest.mark.parametrize("query", ["notes", "absences", "emploi du temps", "Emploi du Temps"])
def test_school_life_words_find_vie_scolaire(client, lea, query):
    assert "vie-scolaire" in found(client, query)


def test_accents_are_forgiven(client, lea):
    assert found(client, "educonnect") == ["educonnect"]
    assert found(client, "ÉDUCONNECT") == ["educonnect"]


def test_a_match_on_the_name_comes_before_a_match_on_keywords(client, lea):
    service = Service.objects.get(slug="educonnect")
    service.keywords = "vie scolaire"
    service.save()
    assert found(client, "vie scolaire") == ["vie-scolaire", "educonnect"]


def test_keywords_never_reveal_another_profiles_service(client, lea):
    assert found(client, "budget") == []  # Op@le's keyword, not a pupil's service


def test_a_keyword_typed_by_the_dsi_is_found(client, lea):
    service = Service.objects.get(slug="ent")
    service.keywords = "Pronote, ENT du collège"
    service.save()
    assert found(client, "pronote") == ["ent"]


def test_find_services_keeps_the_catalogue_order_within_a_rank():
    services = [
        Service(name="B", slug="b", keywords="car"),
        Service(name="A", slug="a", keywords="cars"),
        Service(name="Car", slug="c"),
    ]
    assert [s.slug for s in find_services(services, search.query_terms("car"))] == ["c", "b", "a"]


def test_the_dashboard_htmx_search_uses_the_same_words(client, lea):
    response = client.get("/", {"q": "mail", "partial": "catalogue"}, HTTP_HX_REQUEST="true")
    assert re.findall(r'id="service-([a-z0-9-]+)"', response.content.decode()) == ["messagerie"]
