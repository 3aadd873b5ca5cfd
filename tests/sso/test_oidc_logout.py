"""RP-initiated logout: a relying party may sign the person out of the portal only with an
ID token we issued, and send them back only to an address it registered."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.test import Client
from jwcrypto import jwk, jwt
from oauth2_provider.models import AccessToken

from convergence.sso.models import SsoSession

from .conftest import RelyingParty, obtain_code, redeem, signed_in


def _signed_in_with_id_token(user: Any, rp: RelyingParty) -> tuple[Client, str]:
    client = signed_in(user)
    code, verifier = obtain_code(client, rp)
    response = redeem(Client(), rp, code, verifier)
    assert response.status_code == 200, response.content
    return client, response.json()["id_token"]


def _logout_url(**params: str) -> str:
    return "/oidc/logout/?" + urlencode(params)


def _portal_session_alive(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_valid_hint_and_registered_uri_sign_out_and_redirect(
    teacher: Any, arena: RelyingParty
) -> None:
    client, id_token = _signed_in_with_id_token(teacher, arena)

    response = client.get(
        _logout_url(
            id_token_hint=id_token,
            post_logout_redirect_uri=arena.post_logout_redirect_uri,
            state="au-revoir-1",
        )
    )

    assert response.status_code == 302
    assert response["Location"] == f"{arena.post_logout_redirect_uri}?state=au-revoir-1"
    assert not _portal_session_alive(client)
    assert not SsoSession.objects.active().filter(user=teacher).exists()
    assert not AccessToken.objects.filter(user=teacher).exists()


def test_valid_hint_without_redirect_uri_returns_to_the_portal(
    teacher: Any, arena: RelyingParty
) -> None:
    client, id_token = _signed_in_with_id_token(teacher, arena)

    response = client.get(_logout_url(id_token_hint=id_token))

    assert response.status_code == 302
    assert response["Location"] == "http://testserver/"
    assert not _portal_session_alive(client)


def test_forged_hint_is_refused_and_session_kept(teacher: Any, arena: RelyingParty) -> None:
    client, id_token = _signed_in_with_id_token(teacher, arena)
    claims = jwt.JWT(jwt=id_token).token.objects["payload"].decode()
    forger = jwk.JWK.generate(kty="RSA", size=2048, kid="forger")
    forged = jwt.JWT(header={"alg": "RS256", "kid": "forger"}, claims=claims)
    forged.make_signed_token(forger)

    response = client.get(
        _logout_url(
            id_token_hint=forged.serialize(),
            post_logout_redirect_uri=arena.post_logout_redirect_uri,
        )
    )

    assert response.status_code == 400
    assert "Déconnexion impossible" in response.content.decode()
    assert _portal_session_alive(client)
    assert SsoSession.objects.active().filter(user=teacher).exists()


def test_tampered_hint_is_refused_and_session_kept(teacher: Any, arena: RelyingParty) -> None:
    client, id_token = _signed_in_with_id_token(teacher, arena)
    header, payload, signature = id_token.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"

    response = client.get(_logout_url(id_token_hint=tampered))

    assert response.status_code == 400
    assert _portal_session_alive(client)


def test_garbage_hint_is_refused(teacher: Any, arena: RelyingParty) -> None:
    client = signed_in(teacher)

    response = client.get(_logout_url(id_token_hint="pas-un-jeton"))

    assert response.status_code == 400
    assert _portal_session_alive(client)


def test_hint_of_another_client_is_refused(
    teacher: Any, arena: RelyingParty, quiz: RelyingParty
) -> None:
    client, id_token = _signed_in_with_id_token(teacher, arena)

    response = client.get(_logout_url(id_token_hint=id_token, client_id=quiz.client_id))

    assert response.status_code == 400
    assert _portal_session_alive(client)


def test_unknown_client_id_is_refused_not_a_server_error(teacher: Any) -> None:
    client = signed_in(teacher)

    response = client.get(_logout_url(client_id="inconnu"))

    assert response.status_code == 400
    assert "Déconnexion impossible" in response.content.decode()
    assert _portal_session_alive(client)


def test_unregistered_redirect_uri_is_refused(teacher: Any, arena: RelyingParty) -> None:
    client, id_token = _signed_in_with_id_token(teacher, arena)

    response = client.get(
        _logout_url(id_token_hint=id_token, post_logout_redirect_uri="https://evil.example/")
    )

    assert response.status_code == 400
    assert "Location" not in response
    assert _portal_session_alive(client)


def test_redirect_uri_variant_is_refused(teacher: Any, arena: RelyingParty) -> None:
    client, id_token = _signed_in_with_id_token(teacher, arena)

    response = client.get(
        _logout_url(
            id_token_hint=id_token,
            post_logout_redirect_uri=arena.post_logout_redirect_uri + "?next=https://evil.example",
        )
    )

    assert response.status_code == 400
    assert _portal_session_alive(client)


def test_missing_hint_asks_for_confirmation_in_french(teacher: Any, arena: RelyingParty) -> None:
    client = signed_in(teacher)

    response = client.get(
        _logout_url(
            client_id=arena.client_id, post_logout_redirect_uri=arena.post_logout_redirect_uri
        )
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert "Se déconnecter du portail ?" in content
    assert "« Arena » demande à vous déconnecter." in content
    assert 'class="fr-btn"' in content
    assert _portal_session_alive(client)


def test_confirming_signs_out_and_redirects(teacher: Any, arena: RelyingParty) -> None:
    client = signed_in(teacher)

    response = client.post(
        "/oidc/logout/",
        {
            "client_id": arena.client_id,
            "post_logout_redirect_uri": arena.post_logout_redirect_uri,
            "allow": "on",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == arena.post_logout_redirect_uri
    assert not _portal_session_alive(client)


def test_staying_signed_in_returns_to_the_portal(teacher: Any, arena: RelyingParty) -> None:
    client = signed_in(teacher)

    response = client.post("/oidc/logout/", {"client_id": arena.client_id})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert _portal_session_alive(client)


def test_hint_of_another_person_asks_for_confirmation(
    teacher: Any, dsi: Any, arena: RelyingParty
) -> None:
    _, id_token = _signed_in_with_id_token(teacher, arena)
    client = signed_in(dsi)

    response = client.get(_logout_url(id_token_hint=id_token))

    assert response.status_code == 200
    assert "Se déconnecter du portail ?" in response.content.decode()
    assert _portal_session_alive(client)
