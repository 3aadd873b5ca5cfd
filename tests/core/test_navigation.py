"""The main menu marks the page a person is on, whatever app serves it."""

from __future__ import annotations

import re

import pytest

from convergence.core import errors
from convergence.core.navigation import menu_context
from tests.helpers import client_of


@pytest.mark.parametrize(
    ("path", "href"),
    [("/", "/"), ("/compte/", "/compte/"), ("/aide/erreurs/", "/aide/erreurs/")],
)
def test_the_menu_marks_the_current_page(pupil, path: str, href: str) -> None:
    page = client_of(pupil).get(path).content.decode()
    assert f'href="{href}" aria-current="page"' in page
    assert page.count('aria-current="page"') == 1


NAV_LINK = re.compile(r'<a class="fr-nav__link" href="([^"]+)"( aria-current="(page|true)")?>')


def current_entries(page: str) -> dict[str, str]:
    """The header menu's entries marked current: link → value of ``aria-current``."""
    return {href: value for href, _attribute, value in NAV_LINK.findall(page) if value}


@pytest.mark.parametrize(
    "path",
    [
        "/compte/mot-de-passe/",
        "/compte/securite/",
        "/compte/appareils/",
        "/compte/activite/",
        "/compte/mes-donnees/",
        "/compte/services-autorises/",
    ],
)
def test_my_account_is_current_on_its_sub_pages(teacher, path: str) -> None:
    response = client_of(teacher).get(path)
    assert response.status_code == 200
    assert current_entries(response.content.decode()) == {"/compte/": "true"}


def test_my_account_is_current_on_the_management_pages(dsi) -> None:
    page = client_of(dsi).get("/gestion/imports/").content.decode()
    assert current_entries(page) == {"/compte/": "true"}


def test_help_is_current_on_an_error_explanation(pupil) -> None:
    page = client_of(pupil).get(f"/aide/erreurs/{errors.THROTTLED.code}/").content.decode()
    assert current_entries(page) == {"/aide/erreurs/": "true"}


def test_the_dashboard_is_current_on_its_page_only(pupil) -> None:
    client = client_of(pupil)
    assert current_entries(client.get("/").content.decode()) == {"/": "page"}
    assert current_entries(client.get("/compte/").content.decode()) == {"/compte/": "page"}


@pytest.mark.parametrize(
    ("path", "section", "current"),
    [
        ("/", "dashboard", "page"),
        ("/enfants/12/", "dashboard", "true"),
        ("/compte/", "account", "page"),
        ("/compte/securite/webauthn/", "account", "true"),
        ("/gestion/comptes/3/", "account", "true"),
        ("/aide/erreurs/", "help", "page"),
        ("/administration/core/", "administration", "true"),
        ("/connexion/", "", ""),
        ("/mot-de-passe-oublie/", "", ""),
    ],
)
def test_each_path_belongs_to_one_section(rf, path: str, section: str, current: str) -> None:
    assert menu_context(rf.get(path)) == {"menu_section": section, "menu_current": current}
