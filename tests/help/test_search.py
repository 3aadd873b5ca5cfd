"""The help search forgives accents and plurals, ranks title above summary above body, and
runs alike on SQLite (FTS5) and PostgreSQL (full-text search)."""

from __future__ import annotations

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
