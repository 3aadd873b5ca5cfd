"""The help search forgives accents and plurals, ranks title above summary above body, and
runs alike on SQLite (FTS5) and PostgreSQL (full-text search)."""

from __future__ import annotations

import re

import pytest

from convergence.accounts.models import Assignment, Role, current_school_year
from convergence.core.models import Establishment
from convergence.help import search


def slugs(query, profile=None):
    return [hit.slug for hit in search.search(query, profile)]


def test_eleve_without_accent_finds_eleves(db, library):
    assert slugs("eleve") == ["premiere-connexion-parent"]


def test_plural_finds_singular(db, library):
    assert slugs("mots de passe")[0] == "mot-de-passe-oublie"


def test_lost_phone_finds_the_lost_factor_guide(db, library):
    assert slugs("telephone perdu") == ["facteur-perdu"]


def test_title_ranks_above_body(db, library):
    # "mot de passe" is the first guide's title, only in the body of the parents' one.
    assert slugs("mot de passe") == ["mot-de-passe-oublie", "premiere-connexion-parent"]


def test_words_typed_so_far_are_prefixes(db, library):
    assert slugs("telep") == ["facteur-perdu"]


def test_profile_filter_keeps_guides_for_everyone_and_for_the_profile(db, library):
    assert "premiere-connexion-parent" in slugs("connexion", "parent")
    assert "premiere-connexion-parent" not in slugs("connexion", "eleve")
    assert "facteur-perdu" in slugs("code", "eleve")


def test_excerpt_marks_the_words_and_escapes_the_text(db, write_guide):
    write_guide("echappe", title="Balises", body="Le mot <b>passe</b> ici.")
    hit = search.search("passe")[0]
    assert "<mark>passe</mark>" in hit.excerpt
    assert "&lt;b&gt;" not in hit.excerpt or "<b>" not in hit.excerpt
    assert "<b>" not in hit.excerpt


def test_search_page_without_javascript_and_as_htmx_partial(client, db, library):
    page = client.get("/aide/recherche/", {"q": "Élèves"})
    assert page.status_code == 200
    assert "<mark>Élèves</mark>" in page.content.decode()
    assert 'hx-get="/aide/recherche/"' in page.content.decode()
    partial = client.get("/aide/recherche/", {"q": "eleve"}, headers={"HX-Request": "true"})
    assert partial.content.decode().startswith('<div id="resultats-aide"')


def test_header_search_finds_guides(client, db, library):
    page = client.get("/recherche/", {"q": "telephone perdu"}).content.decode()
    assert "Guides d&#x27;aide" in page
    assert 'href="/aide/guides/facteur-perdu/"' in page


def test_index_follows_a_changed_file(db, library, write_guide):
    assert slugs("girafe") == []
    write_guide("nouveau", title="Girafe orange")
    assert slugs("girafe") == ["nouveau"]


# --- the header search's "Guides d'aide" group, by the person's profiles -------------------


@pytest.fixture
def staff_guide(write_guide):
    """A guide written for the staff only, the one with the word "appels" in its body."""
    write_guide(
        "saisie-des-absences",
        title="Saisie des absences par les personnels",
        summary="Paramétrer le module de vie scolaire.",
        body="Le tableau de bord des appels est réservé aux personnels.",
        profiles="personnel",
    )


@pytest.fixture
def parents_guide(write_guide):
    write_guide(
        "appels-parents",
        title="Les appels pour absence",
        summary="Justifier l'absence de votre enfant.",
        body="Répondez à l'appel de la vie scolaire.",
        profiles="parent",
    )


def header_guides(client) -> list[str]:
    page = client.get("/recherche/", {"q": "appels"})
    assert page.status_code == 200
    return re.findall(r'href="/aide/guides/([a-z0-9-]+)/"', page.content.decode())


def test_pupil_header_search_leaves_out_staff_guides(client, pupil, staff_guide):
    client.force_login(pupil)
    assert header_guides(client) == []


def test_staff_header_search_finds_staff_guides(client, teacher, staff_guide):
    client.force_login(teacher)
    assert header_guides(client) == ["saisie-des-absences"]


def test_anonymous_header_search_finds_every_guide(client, demo, staff_guide, parents_guide):
    assert sorted(header_guides(client)) == ["appels-parents", "saisie-des-absences"]


def test_person_with_two_profiles_finds_guides_for_either(
    client, teacher, staff_guide, parents_guide, write_guide
):
    write_guide("appels-eleves", title="Appels en classe", profiles="eleve")
    Assignment.objects.create(
        user=teacher,
        establishment=Establishment.objects.get(uai="0390012B"),
        role=Role.PARENT,
        school_year=current_school_year(),
    )
    client.force_login(teacher)
    assert sorted(header_guides(client)) == ["appels-parents", "saisie-des-absences"]


def test_guides_for_everyone_are_found_whatever_the_profile(client, pupil, write_guide):
    write_guide("appels-tous", title="Appels", body="Pour tout le monde.")
    client.force_login(pupil)
    assert header_guides(client) == ["appels-tous"]
