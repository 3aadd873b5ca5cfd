"""The OpenID Connect provider as a client nobody here wrote sees it: Authlib drives the
authorization code flow with PKCE against a live server and checks the ID token signature
with the keys of the published JWKS."""

from __future__ import annotations

import secrets
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken

from convergence.sso.models import Acr, SsoSession

from .conftest import RelyingParty

with warnings.catch_warnings():
    # Authlib 1.9 deprecates authlib.jose in favour of joserfc; its CodeIDToken is still the
    # maintained check of an ID token (at_hash, nonce, aud, iss) that Authlib clients use.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken

pytestmark = pytest.mark.django_db(transaction=True)

ALL_SCOPES = "openid profile email establishments"


@dataclass
class Flow:
    """One sign-in of a person at a relying party, as Authlib ran it."""

    discovery: dict[str, Any]
    session: OAuth2Session
    token: dict[str, Any]
    id_token: dict[str, Any]
    authorization_response: dict[str, str]
    nonce: str


def discovery_of(live_server: Any) -> dict[str, Any]:
    response = requests.get(f"{live_server.url}/oidc/.well-known/openid-configuration", timeout=10)
    response.raise_for_status()
    document: dict[str, Any] = response.json()
    return document


def browser_signed_in(live_server: Any, user: Any) -> requests.Session:
    browser = requests.Session()
    browser.get(f"{live_server.url}/connexion/", timeout=10).raise_for_status()
    response = browser.post(
        f"{live_server.url}/connexion/",
        data={
            "login": user.login,
            "password": user.demo_password,
            "csrfmiddlewaretoken": browser.cookies["convergence-csrf"],
        },
        headers={"Referer": f"{live_server.url}/connexion/"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, "the demo person could not sign in"
    return browser


def verified_id_token(
    raw: str, discovery: dict[str, Any], rp: RelyingParty, nonce: str, access_token: str
) -> dict[str, Any]:
    jwks = requests.get(discovery["jwks_uri"], timeout=10).json()
    claims = JsonWebToken(["RS256"]).decode(
        raw,
        key=JsonWebKey.import_key_set(jwks),
        claims_cls=CodeIDToken,
        claims_options={
            "iss": {"essential": True, "value": discovery["issuer"]},
            "aud": {"essential": True, "value": rp.client_id},
            "nonce": {"essential": True, "value": nonce},
        },
        claims_params={"nonce": nonce, "client_id": rp.client_id, "access_token": access_token},
    )
    claims.validate()
    return dict(claims)


def sign_in_at(live_server: Any, user: Any, rp: RelyingParty, scope: str) -> Flow:
    discovery = discovery_of(live_server)
    session = OAuth2Session(
        client_id=rp.client_id,
        client_secret=rp.client_secret,
        scope=scope,
        redirect_uri=rp.redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = session.create_authorization_url(
        discovery["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    browser = browser_signed_in(live_server, user)

    answer = browser.get(url, allow_redirects=False, timeout=10)

    assert answer.status_code == 302, answer.text[:500]
    location = answer.headers["Location"]
    assert location.startswith(rp.redirect_uri)
    response = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert response["state"] == state
    token = session.fetch_token(
        discovery["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    id_token = verified_id_token(
        token["id_token"], discovery, rp, nonce, access_token=token["access_token"]
    )
    return Flow(discovery, session, dict(token), id_token, response, nonce)


def test_code_flow_issues_a_signed_id_token(
    live_server: Any, teacher: Any, arena: RelyingParty
) -> None:
    flow = sign_in_at(live_server, teacher, arena, ALL_SCOPES)

    claims = flow.id_token
    assert claims["sub"] == str(teacher.pk)
    assert claims["iss"] == f"{live_server.url}/oidc"
    assert claims["aud"] == arena.client_id
    assert claims["exp"] > claims["iat"]
    assert claims["acr"] == Acr.PASSWORD
    sso_session = SsoSession.objects.active().get(user=teacher)
    assert claims["sid"] == str(sso_session.pk)
    assert claims["auth_time"] == int(sso_session.auth_time.timestamp())
    assert claims["name"] == "Sophie Bernard"
    assert claims["preferred_username"] == teacher.login
    assert "enseignant" in claims["profile"]
    assert len(claims["establishments"]) == 2
    assert claims["email"] == teacher.email
    assert claims["school_year"]


def test_authorization_response_names_the_discovery_issuer(
    live_server: Any, teacher: Any, arena: RelyingParty
) -> None:
    flow = sign_in_at(live_server, teacher, arena, "openid")

    # RFC 9207: the `iss` of the response is exactly the issuer of the discovery document.
    assert flow.authorization_response["iss"] == flow.discovery["issuer"]
    assert flow.discovery["authorization_response_iss_parameter_supported"] is True


def test_openid_scope_alone_releases_no_personal_data(
    live_server: Any, teacher: Any, arena: RelyingParty
) -> None:
    flow = sign_in_at(live_server, teacher, arena, "openid")

    released = set(flow.id_token) & {"name", "profile", "email", "establishments", "school_year"}
    assert released == set()
    userinfo = flow.session.get(flow.discovery["userinfo_endpoint"], timeout=10).json()
    assert userinfo == {"sub": str(teacher.pk)}


def test_profile_scope_releases_name_and_roles_only(
    live_server: Any, teacher: Any, arena: RelyingParty
) -> None:
    flow = sign_in_at(live_server, teacher, arena, "openid profile")

    assert flow.id_token["name"] == "Sophie Bernard"
    assert "enseignant" in flow.id_token["profile"]
    assert "email" not in flow.id_token
    assert "establishments" not in flow.id_token


def test_establishments_scope_releases_uais_and_school_year(
    live_server: Any, teacher: Any, arena: RelyingParty
) -> None:
    flow = sign_in_at(live_server, teacher, arena, "openid establishments")

    assert all(len(uai) == 8 for uai in flow.id_token["establishments"])
    assert flow.id_token["school_year"]
    assert "name" not in flow.id_token


def test_userinfo_answers_with_the_access_token(
    live_server: Any, teacher: Any, arena: RelyingParty
) -> None:
    flow = sign_in_at(live_server, teacher, arena, ALL_SCOPES)

    userinfo = flow.session.get(flow.discovery["userinfo_endpoint"], timeout=10).json()

    assert userinfo["sub"] == flow.id_token["sub"]
    assert userinfo["email"] == teacher.email
    assert userinfo["establishments"] == flow.id_token["establishments"]
    assert not {"acr", "sid", "auth_time", "nonce"} & set(userinfo)


def test_refresh_rotates_and_the_old_refresh_token_stops_working(
    live_server: Any, teacher: Any, arena: RelyingParty
) -> None:
    flow = sign_in_at(live_server, teacher, arena, "openid profile")
    first = flow.token

    second = flow.session.refresh_token(flow.discovery["token_endpoint"])

    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    userinfo = flow.session.get(flow.discovery["userinfo_endpoint"], timeout=10)
    assert userinfo.json()["sub"] == str(teacher.pk)
    replay = requests.post(
        flow.discovery["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=(arena.client_id, arena.client_secret),
        timeout=10,
    )
    assert replay.status_code == 400


def server_session(live_server: Any, server: RelyingParty) -> OAuth2Session:
    session = OAuth2Session(
        client_id=server.client_id, client_secret=server.client_secret, scope="introspection"
    )
    session.fetch_token(
        discovery_of(live_server)["token_endpoint"], grant_type="client_credentials"
    )
    return session


def test_client_credentials_grant_gives_a_server_token(
    live_server: Any, demo: None, mail_server: RelyingParty
) -> None:
    session = server_session(live_server, mail_server)

    assert session.token["scope"] == "introspection"
    assert session.token["token_type"] == "Bearer"
    assert "refresh_token" not in session.token
    assert "id_token" not in session.token


def test_introspection_tells_active_then_revoked_tokens(
    live_server: Any, teacher: Any, arena: RelyingParty, mail_server: RelyingParty
) -> None:
    flow = sign_in_at(live_server, teacher, arena, "openid email")
    server = server_session(live_server, mail_server)
    endpoint = f"{live_server.url}/oidc/introspect/"

    active = server.post(endpoint, data={"token": flow.token["access_token"]}, timeout=10).json()

    assert active["active"] is True
    assert active["client_id"] == arena.client_id
    assert set(active["scope"].split()) == {"openid", "email"}
    flow.session.revoke_token(
        f"{live_server.url}/oidc/revoke_token/",
        token=flow.token["access_token"],
        token_type_hint="access_token",
    )
    revoked = server.post(endpoint, data={"token": flow.token["access_token"]}, timeout=10)
    assert revoked.json() == {"active": False}
    unknown = server.post(endpoint, data={"token": "inconnu"}, timeout=10)
    assert unknown.json() == {"active": False}


def test_introspection_needs_the_server_scope(
    live_server: Any, teacher: Any, arena: RelyingParty
) -> None:
    flow = sign_in_at(live_server, teacher, arena, "openid")

    response = flow.session.post(
        f"{live_server.url}/oidc/introspect/", data={"token": flow.token["access_token"]}
    )

    assert response.status_code == 403
