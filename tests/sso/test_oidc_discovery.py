"""Discovery documents: what relying parties read before their first request."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from authlib.oidc.discovery import OpenIDProviderMetadata
from django.contrib import admin
from django.core.checks import Tags, run_checks
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from oauth2_provider.models import AccessToken, Application

from convergence.core.blueprints import apply
from tests.conftest import demo_blueprint

from .conftest import (
    RelyingParty,
    authorize_url,
    basic_auth,
    obtain_code,
    pkce_pair,
    query_of,
    redeem,
    refresh,
    signed_in,
)

# A phone app: a public client, no secret, PKCE all the same.
PHONE = RelyingParty(
    client_id="appli-mobile", client_secret="", redirect_uri="https://mobile.exemple.fr/cb"
)


def test_both_metadata_documents_name_the_same_issuer(db: None) -> None:
    client = Client()

    oidc = client.get("/oidc/.well-known/openid-configuration").json()
    oauth = client.get("/oidc/.well-known/oauth-authorization-server").json()

    assert oidc["issuer"] == "http://testserver/oidc"
    assert oauth["issuer"] == oidc["issuer"]
    assert oidc["response_types_supported"] == ["code"]
    assert oidc["code_challenge_methods_supported"] == ["S256"]
    assert "password" not in oauth["grant_types_supported"]
    assert "implicit" not in oauth["grant_types_supported"]


def test_authorization_response_iss_is_the_discovery_issuer(
    teacher: object, arena: RelyingParty
) -> None:
    client = signed_in(teacher)
    _, challenge = pkce_pair()

    response = client.get(authorize_url(arena, challenge=challenge))

    issuer = Client().get("/oidc/.well-known/openid-configuration").json()["issuer"]
    assert query_of(response["Location"])["iss"] == issuer
    assert obtain_code(client, arena)[0]


# --- what the discovery document promises, as relying parties read it --------------------


def discovery(*, secure: bool = False) -> dict[str, Any]:
    document: dict[str, Any] = (
        Client().get("/oidc/.well-known/openid-configuration", secure=secure).json()
    )
    return document


def test_discovery_document_passes_authlib_provider_metadata_validation(db: None) -> None:
    document = discovery(secure=True)

    # Authlib's OpenID Provider Metadata (Discovery 1.0 §3, RFC 8414 §2) checks each field.
    metadata = OpenIDProviderMetadata(document)
    metadata.validate()

    assert metadata.grant_types_supported == [
        "authorization_code",
        "client_credentials",
        "refresh_token",
    ]
    assert metadata.request_uri_parameter_supported is False
    assert metadata.request_parameter_supported is False
    assert metadata.response_types_supported == ["code"]


def test_id_tokens_are_advertised_as_rs256_only(db: None) -> None:
    assert discovery()["id_token_signing_alg_values_supported"] == ["RS256"]


def test_backchannel_logout_with_sid_is_advertised(db: None) -> None:
    document = discovery()

    assert document["backchannel_logout_supported"] is True
    assert document["backchannel_logout_session_supported"] is True


def test_revocation_and_introspection_endpoints_are_advertised(db: None) -> None:
    document = discovery()

    assert document["revocation_endpoint"] == "http://testserver/oidc/revoke_token/"
    assert document["introspection_endpoint"] == "http://testserver/oidc/introspect/"
    assert document["revocation_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "none",
    ]
    assert document["introspection_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
    ]


def test_both_metadata_documents_agree_on_grants_endpoints_and_client_authentication(
    db: None,
) -> None:
    oidc = discovery()
    oauth = Client().get("/oidc/.well-known/oauth-authorization-server").json()

    for key in (
        "grant_types_supported",
        "token_endpoint_auth_methods_supported",
        "revocation_endpoint",
        "revocation_endpoint_auth_methods_supported",
        "introspection_endpoint",
        "introspection_endpoint_auth_methods_supported",
        "code_challenge_methods_supported",
        "response_types_supported",
    ):
        assert oidc[key] == oauth[key], key
    assert set(oidc["scopes_supported"]) == set(oauth["scopes_supported"])


@pytest.mark.parametrize(
    "grant_type",
    ["password", "implicit", "urn:ietf:params:oauth:grant-type:device_code", "token-exchange"],
)
def test_grant_types_not_advertised_are_refused_at_the_token_endpoint(
    teacher: Any, arena: RelyingParty, grant_type: str
) -> None:
    assert grant_type not in discovery()["grant_types_supported"]

    # Valid credentials for each grant, so that only the grant type itself can be refused.
    response = Client().post(
        "/oidc/token/",
        {
            "grant_type": grant_type,
            "username": teacher.login,
            "password": teacher.demo_password,
            "device_code": "z",
        },
        HTTP_AUTHORIZATION=basic_auth(arena),
    )

    assert response.status_code >= 400
    assert "access_token" not in response.content.decode()
    assert not AccessToken.objects.exists()


def test_every_advertised_grant_type_is_accepted(
    teacher: Any, arena: RelyingParty, mail_server: RelyingParty
) -> None:
    rp = Client()
    code, verifier = obtain_code(signed_in(teacher), arena)
    tokens = redeem(rp, arena, code, verifier)
    assert tokens.status_code == 200
    accepted = {
        "authorization_code": tokens,
        "refresh_token": refresh(rp, arena, tokens.json()["refresh_token"]),
        "client_credentials": rp.post(
            "/oidc/token/",
            {"grant_type": "client_credentials", "scope": "introspection"},
            HTTP_AUTHORIZATION=basic_auth(mail_server),
        ),
    }

    assert set(accepted) == set(discovery()["grant_types_supported"])
    assert {grant: answer.status_code for grant, answer in accepted.items()} == dict.fromkeys(
        accepted, 200
    )


def test_public_client_redeems_its_code_with_auth_method_none(teacher: Any, demo: None) -> None:
    service = dict(next(s for s in demo_blueprint()["services"] if s["slug"] == "arena"))
    service["oidc"] = {
        "client_id": PHONE.client_id,
        "public": True,
        "redirect_uris": [PHONE.redirect_uri],
        "first_party": True,
    }
    apply({"services": [service]})
    assert "none" in discovery()["token_endpoint_auth_methods_supported"]
    code, verifier = obtain_code(signed_in(teacher), PHONE)

    response = Client().post(
        "/oidc/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": PHONE.redirect_uri,
            "client_id": PHONE.client_id,
            "code_verifier": verifier,
        },
    )

    assert response.status_code == 200, response.content
    assert "id_token" in response.json()


def test_advertised_prompt_values_are_the_ones_handled(teacher: Any, arena: RelyingParty) -> None:
    assert discovery()["prompt_values_supported"] == ["none", "login"]
    _, challenge = pkce_pair()

    login = signed_in(teacher).get(authorize_url(arena, challenge=challenge, prompt="login"))
    silent = Client().get(authorize_url(arena, challenge=challenge, prompt="none"))

    assert login.status_code == 302 and "/connexion/" in login["Location"]
    assert query_of(silent["Location"])["error"] == "login_required"


def test_advertised_claims_are_the_ones_released(teacher: Any, arena: RelyingParty) -> None:
    everything = "openid profile email establishments"
    code, verifier = obtain_code(signed_in(teacher), arena, scope=everything)
    tokens = redeem(Client(), arena, code, verifier).json()
    payload = tokens["id_token"].split(".")[1]
    released = set(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
    userinfo = (
        Client()
        .get("/oidc/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
        .json()
    )
    document = discovery()

    protocol_claims = {"iss", "aud", "exp", "iat", "at_hash", "nonce", "jti"}
    assert set(document["claims_supported"]) == (released | set(userinfo)) - protocol_claims
    assert set(document["scopes_supported"]) == {*everything.split(), "introspection"}


# --- ID token signing: RS256 only ---------------------------------------------------------


def test_hs256_client_cannot_be_saved(db: None) -> None:
    application = Application(
        client_id="hmac",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://hmac.exemple.fr/cb",
        client_secret="s" * 40,
        hash_client_secret=False,
        algorithm=Application.HS256_ALGORITHM,
    )
    application.full_clean()  # the toolkit alone accepts it

    with pytest.raises(ValidationError, match="RS256 uniquement"):
        application.save()
    assert not Application.objects.filter(client_id="hmac").exists()


def admin_form(data: dict[str, str]) -> Any:
    """The form the administration really shows for an OAuth client."""
    form_class = admin.site._registry[Application].get_form(RequestFactory().get("/"))
    return form_class(data=data)


def test_admin_form_refuses_hs256_on_the_algorithm_field(db: None) -> None:
    form = admin_form(
        {
            "client_id": "hmac",
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": "https://hmac.exemple.fr/cb",
            "post_logout_redirect_uris": "",
            "client_secret": "s" * 40,
            # Unhashed: the toolkit itself would accept HS256 then; the portal does not.
            "name": "HMAC",
            "algorithm": Application.HS256_ALGORITHM,
            "allowed_origins": "",
        }
    )

    assert not form.is_valid()
    assert "RS256 uniquement" in " ".join(form.errors["algorithm"])


def test_admin_form_accepts_rs256(db: None) -> None:
    form = admin_form(
        {
            "client_id": "rsa",
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": "https://rsa.exemple.fr/cb",
            "post_logout_redirect_uris": "",
            "client_secret": "s" * 40,
            "hash_client_secret": "on",
            "name": "RSA",
            "algorithm": Application.RS256_ALGORITHM,
            "allowed_origins": "",
        }
    )

    assert form.is_valid(), form.errors


def test_hs256_client_already_in_the_database_fails_the_database_check(
    arena: RelyingParty,
) -> None:
    # A bulk update bypasses the pre_save guard; the check run by migrate catches it.
    Application.objects.filter(client_id=arena.client_id).update(
        algorithm=Application.HS256_ALGORITHM
    )

    errors = run_checks(tags=[Tags.database], databases=["default"])

    assert [error.id for error in errors if error.id == "sso.E001"] == ["sso.E001"]
    assert "'arena'" in next(error.msg for error in errors if error.id == "sso.E001")


def test_database_check_is_quiet_for_rs256_clients(arena: RelyingParty) -> None:
    errors = run_checks(tags=[Tags.database], databases=["default"])

    assert [error for error in errors if error.id == "sso.E001"] == []
