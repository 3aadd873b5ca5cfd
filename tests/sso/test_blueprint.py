"""Declaring SSO in a blueprint: next to the tile, idempotent, secrets checked and hashed."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from oauth2_provider.models import Application

from convergence.core.blueprints import BlueprintError, apply
from convergence.portal.models import Service
from convergence.sso.models import CasService, OidcClient, same_origin_prefix
from tests.helpers import sign_in_with_totp

SECRET = "x" * 8 + "un-secret-tire-au-hasard-0123456789"


def service(**sso: Any) -> dict[str, Any]:
    return {
        "services": [
            {
                "slug": "appli",
                "name": "Appli",
                "description": "Une appli.",
                "url": "https://appli.exemple.fr/",
                "category": "gestion",
                "audience": "everyone",
                **sso,
            }
        ]
    }


@pytest.mark.django_db
def test_oidc_client_declared_with_its_tile_and_reloaded_idempotently() -> None:
    declaration = service(
        oidc={
            "client_id": "appli",
            "client_secret": SECRET,
            "redirect_uris": ["https://appli.exemple.fr/cb", "https://appli.exemple.fr/cb2"],
            "backchannel_logout_uri": "https://appli.exemple.fr/bcl",
            "first_party": True,
        }
    )
    apply(declaration)
    apply(declaration)
    client = OidcClient.objects.select_related("application", "service").get()
    assert client.service is not None and client.service.slug == "appli"
    assert client.first_party
    assert (
        client.application.redirect_uris
        == "https://appli.exemple.fr/cb https://appli.exemple.fr/cb2"
    )
    assert client.application.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    # Stored hashed, with the fast hasher meant for long random secrets.
    assert client.application.client_secret.startswith("client_secret_sha256$")
    assert check_password(SECRET, client.application.client_secret)
    assert not check_password(SECRET + "!", client.application.client_secret)
    assert Application.objects.count() == 1


@pytest.mark.django_db
def test_client_switched_to_public_keeps_no_usable_secret() -> None:
    confidential = {
        "client_id": "appli",
        "client_secret": SECRET,
        "redirect_uris": ["https://appli.exemple.fr/cb"],
    }
    apply(service(oidc=confidential))

    apply(
        service(
            oidc={
                "client_id": "appli",
                "public": True,
                "redirect_uris": ["https://appli.exemple.fr/cb"],
            }
        )
    )

    application = Application.objects.get()
    assert application.client_type == Application.CLIENT_PUBLIC
    assert not check_password(SECRET, application.client_secret)
    assert not check_password("", application.client_secret)
    # An unhashed empty value would match an empty secret (sso/grants.py, the toolkit).
    assert application.client_secret.startswith("client_secret_sha256$")


@pytest.mark.django_db
def test_public_client_reloaded_keeps_its_stored_value() -> None:
    declaration = service(
        oidc={
            "client_id": "appli",
            "public": True,
            "redirect_uris": ["https://appli.exemple.fr/cb"],
        }
    )
    apply(declaration)
    stored = Application.objects.get().client_secret

    apply(declaration)

    assert Application.objects.get().client_secret == stored


@pytest.mark.django_db
def test_short_secret_refused_in_french_and_nothing_saved() -> None:
    with pytest.raises(BlueprintError, match="au moins 32 caractères"):
        apply(service(oidc={"client_id": "appli", "client_secret": "court", "redirect_uris": []}))
    assert not Application.objects.exists()
    assert not OidcClient.objects.exists()


@pytest.mark.django_db
def test_secret_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPLI_SECRET", SECRET)
    apply(
        service(
            oidc={
                "client_secret_env": "APPLI_SECRET",
                "redirect_uris": ["https://appli.exemple.fr/cb"],
            }
        )
    )
    assert check_password(SECRET, Application.objects.get(client_id="appli").client_secret)


@pytest.mark.django_db
def test_missing_environment_secret_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APPLI_SECRET", raising=False)
    with pytest.raises(BlueprintError, match="APPLI_SECRET est vide"):
        apply(service(oidc={"client_secret_env": "APPLI_SECRET", "redirect_uris": []}))


@pytest.mark.django_db
def test_cas_service_declared_with_its_tile() -> None:
    apply(service(cas={"url_prefix": "https://appli.exemple.fr/", "single_logout": False}))
    registration = CasService.objects.get()
    assert registration.first_party
    assert not registration.single_logout
    assert CasService.objects.for_url("https://appli.exemple.fr/login?x=1") == registration
    assert CasService.objects.for_url("https://appli.exemple.fr.evil.com/") is None


@pytest.mark.django_db
def test_server_client_uses_client_credentials_without_a_tile() -> None:
    apply({"server_clients": [{"client_id": "messagerie", "client_secret": SECRET}]})
    client = OidcClient.objects.select_related("application").get()
    assert client.service is None
    assert client.application.authorization_grant_type == Application.GRANT_CLIENT_CREDENTIALS


@pytest.mark.parametrize(
    ("url", "matches"),
    [
        ("https://ent.exemple.fr/", True),
        ("https://ent.exemple.fr/ent/accueil?x=1", True),
        ("https://ENT.exemple.fr/ent", True),
        ("http://ent.exemple.fr/ent", False),
        ("https://ent.exemple.fr:8443/ent", False),
        ("https://ent.exemple.fr.pirate.com/ent", False),
        ("https://user@ent.exemple.fr/ent", False),
        ("javascript:alert(1)", False),
    ],
)
def test_prefix_matching(url: str, matches: bool) -> None:
    assert same_origin_prefix("https://ent.exemple.fr/", url) is matches


@pytest.mark.parametrize(
    ("url", "matches"),
    [
        ("https://x.fr/ent", True),
        ("https://x.fr/ent/a", True),
        ("https://x.fr/entrepot", False),
    ],
)
def test_prefix_matching_stops_at_a_segment(url: str, matches: bool) -> None:
    assert same_origin_prefix("https://x.fr/ent", url) is matches


@pytest.mark.django_db
def test_administrator_declares_cas_on_the_services_page(client: Any, dsi: Any) -> None:
    sign_in_with_totp(client, dsi)
    service = Service.objects.get(slug="pia")
    page = client.get(f"/administration/portal/service/{service.pk}/change/")
    content = page.content.decode()
    assert "id_oidc_client-TOTAL_FORMS" in content
    assert "id_cas_service-TOTAL_FORMS" in content


@pytest.mark.django_db
def test_hs256_client_refused_at_load_in_french_and_nothing_saved() -> None:
    declaration = service(
        oidc={
            "client_id": "appli",
            "client_secret": SECRET,
            "redirect_uris": ["https://appli.exemple.fr/cb"],
            "algorithm": "HS256",
        }
    )

    with pytest.raises(BlueprintError, match="RS256 uniquement"):
        apply(declaration)
    assert not Application.objects.filter(client_id="appli").exists()
