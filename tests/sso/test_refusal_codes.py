"""Every refusal page of single sign-on shows its error code, links to the code's guide and
keeps the code for a support request opened afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from convergence.core import errors
from convergence.core.blueprints import apply
from convergence.help import guides
from convergence.sso import errors as sso_errors

from .conftest import RelyingParty, authorize_url, pkce_pair, signed_in

CONTENT = Path(__file__).resolve().parents[2] / "content" / "guides"
STAFF_ONLY_CAS = "https://intranet-cas.exemple.fr/"
SENSITIVE_SECRET = "coffre-secret-de-demonstration-long"
SENSITIVE_REDIRECT_URI = "https://coffre.exemple.fr/cb"


@pytest.fixture(autouse=True)
def real_guides(settings: Any) -> None:
    settings.HELP_GUIDES_DIR = CONTENT
    guides.forget()


@pytest.fixture
def staff_only_cas(demo: None) -> None:
    """A CAS intranet for teachers and the DSI: pupils are outside its audience."""
    apply(
        {
            "services": [
                {
                    "slug": "intranet-cas",
                    "name": "Intranet des personnels",
                    "description": "Un service CAS des personnels.",
                    "url": STAFF_ONLY_CAS,
                    "category": "gestion",
                    "audience": [{"roles": ["enseignant", "dsi"]}],
                    "cas": {"url_prefix": STAFF_ONLY_CAS},
                }
            ]
        }
    )


@pytest.fixture
def sensitive_oidc(demo: None) -> str:
    """A sensitive OIDC service: a second factor is always required."""
    apply(
        {
            "services": [
                {
                    "slug": "coffre",
                    "name": "Coffre",
                    "description": "Un service sensible.",
                    "url": "https://coffre.exemple.fr/",
                    "category": "gestion",
                    "audience": "everyone",
                    "mfa_required": True,
                    "oidc": {
                        "client_id": "coffre",
                        "client_secret": SENSITIVE_SECRET,
                        "redirect_uris": [SENSITIVE_REDIRECT_URI],
                        "first_party": True,
                    },
                }
            ]
        }
    )
    return "coffre"


def cas_login(browser: Client, service: str) -> Any:
    return browser.get("/cas/login?" + urlencode({"service": service}))


def assert_shows_code_and_its_guide(response: Any, entry: errors.ErrorCode) -> None:
    page = response.content.decode()
    assert "Code d&#x27;erreur" in page or "Code d'erreur" in page
    assert f'<a href="/aide/erreurs/{entry.code}/">{entry.code}</a>' in page
    guide_page = Client().get(f"/aide/erreurs/{entry.code}/")
    assert guide_page.status_code == 200
    assert 'class="cv-guide fr-mt-5w"' in guide_page.content.decode()


def test_cas_refusal_shows_its_code_and_guide(pupil: Any, staff_only_cas: None) -> None:
    browser = signed_in(pupil)

    response = cas_login(browser, STAFF_ONLY_CAS)

    assert response.status_code == 403
    assert "Accès au service refusé" in response.content.decode()
    assert "Revenir à mes services" in response.content.decode()
    assert_shows_code_and_its_guide(response, sso_errors.SERVICE_REFUSED)


def test_cas_refusal_is_remembered_for_a_support_request(pupil: Any, staff_only_cas: None) -> None:
    browser = signed_in(pupil)

    cas_login(browser, STAFF_ONLY_CAS)

    assert browser.session["last_error_code"][0] == sso_errors.SERVICE_REFUSED.code


def test_unknown_cas_service_shows_its_code_and_guide(pupil: Any) -> None:
    browser = signed_in(pupil)

    response = cas_login(browser, "https://inconnu.exemple.fr/")

    assert response.status_code == 400
    assert "Service non déclaré" in response.content.decode()
    assert_shows_code_and_its_guide(response, sso_errors.UNKNOWN_CAS_SERVICE)
    assert browser.session["last_error_code"][0] == sso_errors.UNKNOWN_CAS_SERVICE.code


def test_oidc_refusal_shows_its_code_and_guide(pupil: Any, arena: RelyingParty) -> None:
    _, challenge = pkce_pair()
    browser = signed_in(pupil)

    response = browser.get(authorize_url(arena, challenge=challenge))

    assert response.status_code == 403
    assert "Accès au service refusé" in response.content.decode()
    assert_shows_code_and_its_guide(response, sso_errors.SERVICE_REFUSED)
    assert browser.session["last_error_code"][0] == sso_errors.SERVICE_REFUSED.code


def test_bad_oidc_request_shown_to_the_person_has_its_code(
    teacher: Any, arena: RelyingParty
) -> None:
    _, challenge = pkce_pair()
    browser = signed_in(teacher)

    response = browser.get(
        authorize_url(arena, challenge=challenge, redirect_uri="https://pirate.exemple.com/cb")
    )

    assert response.status_code == 400
    assert "Location" not in response
    assert "Connexion au service impossible" in response.content.decode()
    assert "invalid_request" in response.content.decode()  # the technical code stays
    assert_shows_code_and_its_guide(response, sso_errors.INVALID_SERVICE_REQUEST)
    assert browser.session["last_error_code"][0] == sso_errors.INVALID_SERVICE_REQUEST.code


def test_oidc_error_sent_back_to_the_client_is_not_remembered(
    teacher: Any, arena: RelyingParty
) -> None:
    browser = signed_in(teacher)

    response = browser.get(authorize_url(arena, challenge=None))

    assert response.status_code == 302
    assert "last_error_code" not in browser.session


def test_missing_second_factor_shows_its_code_and_guide(teacher: Any, sensitive_oidc: str) -> None:
    _, challenge = pkce_pair()
    browser = Client()
    browser.post("/connexion/", {"login": teacher.login, "password": teacher.demo_password})
    rp = RelyingParty(sensitive_oidc, SENSITIVE_SECRET, SENSITIVE_REDIRECT_URI)

    response = browser.get(authorize_url(rp, challenge=challenge))

    assert response.status_code == 403
    assert "Activer un second facteur" in response.content.decode()
    assert_shows_code_and_its_guide(response, sso_errors.SECOND_FACTOR_NEEDED)
    assert browser.session["last_error_code"][0] == sso_errors.SECOND_FACTOR_NEEDED.code


def test_refused_logout_shows_its_code_and_guide(teacher: Any) -> None:
    browser = signed_in(teacher)

    response = browser.get("/oidc/logout/?" + urlencode({"client_id": "inconnu"}))

    assert response.status_code == 400
    assert "Déconnexion impossible" in response.content.decode()
    assert_shows_code_and_its_guide(response, sso_errors.LOGOUT_REFUSED)
