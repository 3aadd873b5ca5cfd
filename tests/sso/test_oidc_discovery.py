"""Discovery documents: what relying parties read before their first request."""

from __future__ import annotations

from django.test import Client

from .conftest import RelyingParty, authorize_url, obtain_code, pkce_pair, query_of, signed_in


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
