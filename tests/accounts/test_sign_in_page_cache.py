"""The sign-in page a fresh browser gets is rendered once and cached, but for its CSRF
token: every browser still gets its own token, and anything of its own is rendered live."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from convergence.accounts.views.signin import NEXT_PLACEHOLDER, LoginView
from convergence.core import fragments
from convergence.core.models import Academie
from tests.helpers import text_of

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ANY_TOKEN = re.compile(r'(value="|X-CSRFToken": ")[A-Za-z0-9]{64}"')


def token_of(page: str) -> str:
    tokens = set(TOKEN.findall(page))
    assert len(tokens) == 1
    return tokens.pop()


def test_every_fresh_browser_gets_its_own_working_token(pupil):
    browsers = [Client(enforce_csrf_checks=True) for _ in range(2)]
    pages = [browser.get("/connexion/").content.decode() for browser in browsers]
    assert all(fragments.csrf_placeholder() not in page for page in pages)
    tokens = [token_of(page) for page in pages]
    assert tokens[0] != tokens[1]
    response = browsers[1].post(
        "/connexion/",
        {"login": pupil.login, "password": pupil.demo_password, "csrfmiddlewaretoken": tokens[1]},
    )
    assert response.status_code == 302
    # The other browser's token is not this one's.
    refused = browsers[0].post(
        "/connexion/",
        {"login": pupil.login, "password": pupil.demo_password, "csrfmiddlewaretoken": tokens[1]},
    )
    assert refused.status_code == 403


def test_the_cached_page_is_the_rendered_page(demo, client):
    first = client.get("/connexion/?profil=parent").content.decode()
    second = Client().get("/connexion/?profil=parent").content.decode()
    assert ANY_TOKEN.sub("", first) == ANY_TOKEN.sub("", second)
    assert "Connexion à Convergence" in first


def test_a_next_parameter_is_rendered_for_this_request(demo, client):
    page = client.get("/connexion/?next=/compte/").content.decode()
    assert 'name="next" value="/compte/"' in page
    assert 'name="next"' not in Client().get("/connexion/").content.decode()


def test_a_pending_message_is_shown(pupil, client):
    client.force_login(pupil)
    client.post("/deconnexion/")
    assert "déconnecté" in text_of(client.get("/connexion/")).lower()


def test_a_renamed_academie_shows_at_once(demo, client):
    client.get("/connexion/")
    academie = Academie.current()
    academie.name = "Académie de Démonstration Renommée"
    academie.save()
    assert "Académie de Démonstration Renommée" in Client().get("/connexion/").content.decode()


NEXTS = [
    "/compte/",
    "/oidc/authorize/?client_id=arena&redirect_uri=https%3A%2F%2Farena.ac-besancon.fr%2F"
    '&state=a"b<c>&scope=openid profile',
]


@pytest.mark.parametrize("next_url", NEXTS)
@pytest.mark.parametrize("profile", ["", "parent"])
def test_the_cached_page_with_next_equals_the_live_one(demo, monkeypatch, next_url, profile):
    query = {"next": next_url, **({"profil": profile} if profile else {})}
    cached = [Client().get("/connexion/", query).content.decode() for _ in range(2)][1]
    monkeypatch.setattr(LoginView, "_same_for_everyone", staticmethod(lambda request: False))
    live = Client().get("/connexion/", query).content.decode()
    assert ANY_TOKEN.sub("", cached) == ANY_TOKEN.sub("", live)
    assert NEXT_PLACEHOLDER not in cached


def test_sign_in_through_the_cached_page_goes_to_next(pupil):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/connexion/", {"next": "/compte/"}).content.decode()
    response = browser.post(
        "/connexion/",
        {
            "login": pupil.login,
            "password": pupil.demo_password,
            "next": "/compte/",
            "csrfmiddlewaretoken": token_of(page),
        },
    )
    assert response.status_code == 302
    assert response.url == "/compte/"
