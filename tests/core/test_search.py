"""The one search (core/search.py): words compared without case, accents or plurals, every
app's results on the header's search page, one message when nothing is found."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from convergence.core import search
from tests.helpers import text_of


@pytest.fixture(autouse=True)
def _no_help_guides(settings, tmp_path):
    """Core's own groups, without the help app's guides (tests/help searches those)."""
    settings.HELP_GUIDES_DIR = tmp_path / "no-guides"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Élève", ["eleve"]),
        ("Vie SCOLAIRE", ["vie", "scolaire"]),
        ("absences", ["absence"]),
        ("journaux", ["journal"]),
        ("l'emploi du temps", ["l", "emploi", "du", "temp"]),
        ("M@gistère", ["m@gistere"]),
    ],
)
def test_terms_fold_case_accents_and_plurals(text, words):
    assert search.terms(text) == words


def test_query_leaves_out_little_words_unless_it_has_nothing_else():
    assert search.query_terms("mot de passe") == ["mot", "passe"]
    assert search.query_terms("de") == ["de"]


def test_every_asked_word_must_start_a_word_of_the_text():
    text = search.terms("Messagerie académique")
    assert search.matches(search.query_terms("messag"), text)
    assert search.matches(search.query_terms("MESSAGERIE academique"), text)
    assert not search.matches(search.query_terms("messagerie privée"), text)
    assert not search.matches(search.query_terms("sagerie"), text)
    assert not search.matches([], text)


def test_a_query_is_cut_to_a_hundred_characters():
    assert len("".join(search.query_terms("a" * 1000))) == search.MAX_QUERY_LENGTH


def test_providers_results_are_grouped_in_their_order(demo):
    request = RequestFactory().get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert [group.provider.key for group in search.search(request, "aide")] == ["pages"]
    assert [group.provider.key for group in search.search(request, "expiré")] == ["help"]
    assert search.search(request, "   ") == []


def test_header_search_finds_the_messagerie_for_mail(client, pupil):
    client.force_login(pupil)
    response = client.get("/recherche/", {"q": "mail"})
    assert response.status_code == 200
    text = text_of(response)
    assert "Messagerie" in text
    assert "1 résultat pour « mail »." in text


def test_header_search_finds_help_for_aide(client, teacher):
    client.force_login(teacher)
    text = text_of(client.get("/recherche/", {"q": "aide"}))
    assert "Aide et codes d'erreur" in text
    assert "Pratic — assistance" in text


def test_header_search_finds_error_codes_by_their_words(client, demo):
    text = text_of(client.get("/recherche/", {"q": "formulaire expiré"}))
    assert "Formulaire expiré (CONV-403-CSRF)" in text


def test_signed_out_search_finds_no_service(client, demo):
    text = text_of(client.get("/recherche/", {"q": "messagerie"}))
    # The help guides about mail are public; the catalogue's Messagerie tile is not.
    assert "Votre messagerie académique, sur ordinateur et sur téléphone." not in text
    assert 'id="groupe-services"' not in text
    assert "Connectez-vous pour chercher aussi parmi vos services." in text


def test_nothing_found_is_said_once(client, pupil):
    client.force_login(pupil)
    text = text_of(client.get("/recherche/", {"q": "xylophone"}))
    assert text.count("Aucun résultat") == 1
    assert "0 résultat" not in text


def test_the_search_box_is_in_every_pages_header(client, demo):
    content = client.get("/connexion/").content.decode()
    assert 'id="recherche-portail"' in content
    assert 'action="/recherche/"' in content


def test_header_search_finds_the_password_pages(client, pupil):
    client.force_login(pupil)
    text = text_of(client.get("/recherche/", {"q": "mot de passe"}))
    assert "Changer de mot de passe" in text
    assert "Mot de passe oublié" in text


def test_pages_for_signed_in_people_are_not_offered_signed_out(client, demo):
    text = text_of(client.get("/recherche/", {"q": "mes données"}))
    assert "Données personnelles et cookies" in text
    assert "Mes données" not in text.replace("Mes données personnelles", "")


def test_management_pages_are_found_only_by_those_who_may_open_them(client, pupil, dsi):
    client.force_login(pupil)
    assert "Imports de comptes" not in text_of(client.get("/recherche/", {"q": "imports"}))
    client.force_login(dsi)
    assert "Imports de comptes" in text_of(client.get("/recherche/", {"q": "imports"}))
