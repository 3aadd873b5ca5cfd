"""axe-core on the pages single sign-on shows people: consent, refusal, authorised services,
an unknown CAS service. Nothing "serious" or "critical"."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from convergence.core.blueprints import apply

from .conftest import sign_in
from .test_accessibility import assert_no_serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def authorize_url(client_id: str, redirect_uri: str) -> str:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid profile email",
        "state": "etat",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    return f"/oidc/authorize/?{urlencode(query)}"


@pytest.fixture
def clients(demo: None) -> None:
    apply(
        {
            "services": [
                {
                    "slug": "quiz",
                    "name": "Quiz de l'éditeur",
                    "description": "Un service extérieur.",
                    "url": "https://quiz.exemple.com/",
                    "category": "pedagogie",
                    "audience": "everyone",
                    "external": True,
                    "oidc": {
                        "client_id": "quiz-a11y",
                        "client_secret": "quiz-secret-pour-les-tests-d-accessibilite",
                        "redirect_uris": ["https://quiz.exemple.com/cb"],
                    },
                },
                {
                    "slug": "gestion-rh",
                    "name": "Gestion RH",
                    "description": "Réservé aux personnels.",
                    "url": "https://rh.exemple.fr/",
                    "category": "gestion",
                    "audience": [{"roles": ["administratif", "dsi"]}],
                    "oidc": {
                        "client_id": "rh-a11y",
                        "client_secret": "rh-secret-pour-les-tests-d-accessibilite-0",
                        "redirect_uris": ["https://rh.exemple.fr/cb"],
                        "first_party": True,
                    },
                },
            ]
        }
    )


def test_consent_and_authorised_services_pages(page: Page, pupil: Any, clients: None) -> None:
    sign_in(page, pupil)
    page.goto(authorize_url("quiz-a11y", "https://quiz.exemple.com/cb"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Autoriser Quiz de l'éditeur")
    assert_no_serious_violations(page)

    # Answering "Autoriser" leaves for the service's own site, which does not exist here:
    # stop at the redirect and check the consent is listed in the account.
    page.route("https://quiz.exemple.com/**", lambda route: route.fulfill(body="ok"))
    page.get_by_role("button", name="Autoriser").click()
    page.wait_for_url("https://quiz.exemple.com/**")
    page.goto("/compte/services-autorises/")
    expect(
        page.get_by_role("button", name="Retirer l'autorisation de Quiz de l'éditeur")
    ).to_be_visible()
    assert_no_serious_violations(page)


def test_refusal_page(page: Page, pupil: Any, clients: None) -> None:
    sign_in(page, pupil)
    response = page.goto(authorize_url("rh-a11y", "https://rh.exemple.fr/cb"))
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès au service refusé")
    assert_no_serious_violations(page)


def test_unknown_cas_service_page(page: Page, pupil: Any) -> None:
    sign_in(page, pupil)
    response = page.goto("/cas/login?service=https%3A%2F%2Finconnu.exemple.com%2F")
    assert response is not None and response.status == 400
    assert_no_serious_violations(page)
