"""form-action names a service's origin only on the pages whose forms lead to it, and only
when the destination is registered for that service."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client

from convergence.core.blueprints import apply

REDIRECT = "https://appli.exemple.fr/cb"


@pytest.fixture
def client_registered(demo: None) -> None:
    apply(
        {
            "services": [
                {
                    "slug": "appli",
                    "name": "Appli",
                    "description": "Une appli.",
                    "url": "https://appli.exemple.fr/",
                    "category": "gestion",
                    "audience": "everyone",
                    "oidc": {
                        "client_id": "appli",
                        "client_secret": "secret-de-l-appli-pour-les-tests-csp",
                        "redirect_uris": [REDIRECT],
                        "post_logout_redirect_uris": ["https://appli.exemple.fr/bye"],
                    },
                    "cas": {"url_prefix": "https://ent.exemple.fr/"},
                }
            ]
        }
    )


def form_action(response: object) -> str:
    policy = response.headers["Content-Security-Policy"]  # type: ignore[attr-defined]
    return next(part for part in policy.split("; ") if part.startswith("form-action"))


def sign_in_page(next_url: str) -> str:
    return "/connexion/?" + urlencode({"next": next_url})


@pytest.mark.django_db
def test_sign_in_page_leading_to_a_registered_redirect_names_its_origin(
    client_registered: None,
) -> None:
    authorize = "/oidc/authorize/?" + urlencode({"client_id": "appli", "redirect_uri": REDIRECT})
    response = Client().get(sign_in_page(authorize))
    assert form_action(response) == "form-action 'self' https://appli.exemple.fr"


@pytest.mark.parametrize(
    "next_url",
    [
        "/oidc/authorize/?"
        + urlencode({"client_id": "appli", "redirect_uri": "https://pirate.exemple.com/cb"}),
        "/oidc/authorize/?" + urlencode({"client_id": "inconnu", "redirect_uri": REDIRECT}),
        "https://pirate.exemple.com/oidc/authorize/",
        "/",
    ],
)
@pytest.mark.django_db
def test_unregistered_destinations_are_never_added(client_registered: None, next_url: str) -> None:
    response = Client().get(sign_in_page(next_url))
    assert form_action(response) == "form-action 'self'"


@pytest.mark.django_db
def test_cas_and_logout_destinations(client_registered: None) -> None:
    cas = Client().get(sign_in_page("/cas/login?service=https%3A%2F%2Fent.exemple.fr%2Fx"))
    assert form_action(cas) == "form-action 'self' https://ent.exemple.fr"
    logout = Client().get(
        "/oidc/logout/?"
        + urlencode(
            {"client_id": "appli", "post_logout_redirect_uri": "https://appli.exemple.fr/bye"}
        )
    )
    assert "https://appli.exemple.fr" in form_action(logout)
