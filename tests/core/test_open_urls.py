"""Pages each app keeps open during maintenance and during second-factor enrolment."""

from __future__ import annotations

import pytest

from convergence.core import open_urls

MAINTENANCE = open_urls.During.MAINTENANCE
ENROLMENT = open_urls.During.ENROLMENT


@pytest.mark.parametrize(
    "path",
    ["/connexion/", "/compte/securite/authenticate/", "/aide/erreurs/", "/administration/"],
)
def test_sign_in_help_and_administration_stay_open_during_maintenance(path: str) -> None:
    assert open_urls.is_open(path, MAINTENANCE)


@pytest.mark.parametrize("path", ["/", "/compte/", "/gestion/comptes/", "/oidc/authorize/"])
def test_the_rest_is_closed_during_maintenance(path: str) -> None:
    assert not open_urls.is_open(path, MAINTENANCE)


@pytest.mark.parametrize(
    "path", ["/compte/securite/", "/deconnexion/", "/compte/mot-de-passe/", "/oidc/logout/"]
)
def test_enrolment_sign_out_and_password_stay_open_while_a_factor_is_missing(path: str) -> None:
    assert open_urls.is_open(path, ENROLMENT)


def test_the_dashboard_is_closed_while_a_factor_is_missing() -> None:
    assert not open_urls.is_open("/", ENROLMENT)
    assert not open_urls.is_open("/gestion/comptes/", ENROLMENT)


def test_an_app_opens_its_own_page_without_editing_core(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = {during: set(names) for during, names in open_urls._ENTRIES.items()}
    monkeypatch.setattr(open_urls, "_ENTRIES", entries)
    open_urls.prefixes.cache_clear()
    open_urls.register("/etat/", during=(MAINTENANCE,))
    assert open_urls.is_open("/etat/services/", MAINTENANCE)
    assert not open_urls.is_open("/etat/services/", ENROLMENT)
    monkeypatch.undo()
    open_urls.prefixes.cache_clear()
    assert not open_urls.is_open("/etat/services/", MAINTENANCE)
