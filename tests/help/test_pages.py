"""The help home, the error codes' guides, maintenance."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from convergence.core import errors
from convergence.help import guides

CONTENT = Path(__file__).resolve().parents[2] / "content" / "guides"


def test_home_lists_guides_by_profile_with_search_and_error_codes(client, db, library):
    page = client.get("/aide/").content.decode()
    assert "Pour les parents" in page
    assert 'href="/aide/guides/premiere-connexion-parent/"' in page
    assert 'action="/aide/recherche/"' in page
    assert 'href="/aide/erreurs/"' in page


def test_guide_for_parents_is_left_out_for_pupils(client, db, library):
    page = client.get("/aide/", {"profil": "eleve"}).content.decode()
    assert "/aide/guides/premiere-connexion-parent/" not in page
    assert "/aide/guides/facteur-perdu/" in page


def test_error_code_page_shows_registry_entry_and_its_guide(client, db, write_guide):
    write_guide("trop-de-tentatives", title="Trop d'essais", body="Attendez.", codes="CONV-429")
    page = client.get("/aide/erreurs/CONV-429/").content.decode()
    assert "CONV-429 — Trop de tentatives" in page
    assert "Trop d&#x27;essais" in page or "Trop d'essais" in page
    assert "Attendez." in page


def test_help_stays_open_during_maintenance(db, settings, library):
    settings.MAINTENANCE = True
    assert Client().get("/aide/guides/facteur-perdu/").status_code == 200


@pytest.mark.parametrize("entry", errors.all_codes(), ids=lambda entry: entry.code)
def test_every_error_code_has_its_guide(client, db, settings, entry):
    """Reads the real content/guides/: each code of the registry is explained by a guide."""
    settings.HELP_GUIDES_DIR = CONTENT
    guides.forget()
    response = client.get(f"/aide/erreurs/{entry.code}/")
    assert response.status_code == 200
    assert guides.collection().for_error_code(entry.code), f"{entry.code} has no guide"
    assert 'class="cv-guide fr-mt-5w"' in response.content.decode()


def test_fresh_browser_gets_the_cached_page_and_a_signed_in_person_a_live_one(
    client, db, library, pupil, monkeypatch
):
    from convergence.help.views import guides as views

    assert client.get("/aide/guides/facteur-perdu/").status_code == 200
    rendered = []
    original = views.render
    monkeypatch.setattr(views, "render", lambda *a, **k: rendered.append(1) or original(*a, **k))
    assert "J&#x27;ai perdu" in client.get("/aide/guides/facteur-perdu/").content.decode()
    assert rendered == []
    client.force_login(pupil)
    page = client.get("/aide/guides/facteur-perdu/").content.decode()
    assert rendered == [1]
    assert "J&#x27;ai perdu" in page


def test_query_strings_no_page_reads_are_never_stored(client, db, library, monkeypatch):
    """A bot looping over ``?a=1``, ``?a=2``… or searching random words must not fill the
    cache (Redis refuses writes when full, and the portal then answers 503): only the
    profile asked, one of three, is part of a stored page."""
    from convergence.core import fragments

    stored: list[str] = []
    original = fragments.cached

    def counting(key, render, timeout=fragments.FRAGMENT_SECONDS):
        if key.startswith("fragment:help-page:"):
            stored.append(key)
        return original(key, render, timeout)

    monkeypatch.setattr(fragments, "cached", counting)
    for number in range(3):
        assert client.get(f"/aide/guides/facteur-perdu/?a={number}").status_code == 200
        assert client.get(f"/aide/recherche/?q=mot{number}").status_code == 200
        assert client.get(f"/aide/?profil=inconnu{number}").status_code == 200
    assert stored == []
    for profile in ("", "eleve", "parent", "personnel"):
        assert client.get(f"/aide/?profil={profile}").status_code == 200
    assert len(stored) == 4
