"""Who may call the API: a catalogue service's live client-credentials token, with the
scope of the category it posts; the token endpoint grants only the scopes the client holds."""

from __future__ import annotations

import datetime
from typing import Any

from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from convergence.api.models import ApiClient
from convergence.core.blueprints import apply
from convergence.sso import clients
from convergence.sso.tokens import checksum
from tests.api.conftest import payload, post, service_token, token_response
from tests.conftest import demo_blueprint
from tests.sso.conftest import obtain_code, redeem, signed_in

# --- the token endpoint ------------------------------------------------------------------


def test_service_client_gets_its_notification_scopes(demo: None) -> None:
    response = token_response("notifications:annonces")

    assert response.status_code == 200
    assert response.json()["scope"] == "notifications:annonces"
    assert "refresh_token" not in response.json()
    token = AccessToken.objects.get(token_checksum=checksum(response.json()["access_token"]))
    assert token.user is None


def test_service_client_without_scope_gets_all_of_its_own(demo: None) -> None:
    response = token_response(None)

    assert response.status_code == 200
    assert set(response.json()["scope"].split()) == {
        "notifications:annonces",
        "notifications:services",
    }


def test_scope_not_granted_to_the_client_is_an_invalid_scope(demo: None) -> None:
    response = token_response("notifications:annonces notifications:assistance")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_security_scope_is_never_granted(demo: None) -> None:
    ApiClient.objects.filter(oidc_client__application__client_id="arena-demo").update(
        scopes="notifications:annonces notifications:securite"
    )

    response = token_response("notifications:securite")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_service_client_cannot_get_a_server_scope(demo: None) -> None:
    # As before it held API scopes: a catalogue client is no server.
    response = token_response("introspection notifications:annonces")

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_unknown_scope_is_an_invalid_scope(demo: None) -> None:
    response = token_response("notifications:annonces profile")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_wrong_secret_is_an_invalid_client(demo: None) -> None:
    response = token_response(
        "notifications:annonces", secret="pas-le-bon-secret-du-tout-vraiment-pas"
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_client_no_longer_an_api_client_gets_nothing(demo: None) -> None:
    ApiClient.objects.all().delete()

    response = token_response("notifications:annonces")

    # Back to what any catalogue client gets: no client credentials at all.
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def _make_arena_public() -> None:
    """As an administrator switching the client to public in the administration would: the
    stored secret is left as it was."""
    Application.objects.filter(client_id="arena-demo").update(client_type=Application.CLIENT_PUBLIC)
    clients.forget()


def test_public_client_with_its_old_secret_gets_no_token(demo: None) -> None:
    _make_arena_public()

    response = token_response("notifications:annonces")

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert not AccessToken.objects.exists()


def test_client_switched_to_public_in_the_blueprint_loses_its_secret(demo: None) -> None:
    arena = next(item for item in demo_blueprint()["services"] if item["slug"] == "arena")
    oidc = {key: value for key, value in arena["oidc"].items() if key != "client_secret"}
    apply({"services": [{**arena, "oidc": {**oidc, "public": True}}]})

    response = token_response("notifications:annonces")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


# --- the bearer token at the API ---------------------------------------------------------


def test_missing_token_is_401_with_a_bearer_challenge(teacher: Any) -> None:
    response = post(None, payload(teacher.login))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "authentification_requise"


def test_unknown_token_is_401_invalid_token(teacher: Any) -> None:
    response = post("pas-un-jeton", payload(teacher.login))

    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert response.json()["code"] == "jeton_invalide"


def test_basic_credentials_are_not_a_token(teacher: Any) -> None:
    response = Client().post(
        "/api/v1/notifications/",
        payload(teacher.login),
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic YXJlbmEtZGVtbzpzZWNyZXQ=",
        HTTP_IDEMPOTENCY_KEY="k1",
    )

    assert response.status_code == 401


def test_expired_token_is_401(teacher: Any, arena_token: str) -> None:
    AccessToken.objects.filter(token_checksum=checksum(arena_token)).update(
        expires=timezone.now() - datetime.timedelta(seconds=1)
    )

    response = post(arena_token, payload(teacher.login))

    assert response.status_code == 401
    assert not teacher.notifications.exists()


def test_revoked_token_is_401(teacher: Any, arena_token: str) -> None:
    AccessToken.objects.filter(token_checksum=checksum(arena_token)).delete()

    assert post(arena_token, payload(teacher.login)).status_code == 401


def test_a_person_s_token_is_refused(teacher: Any) -> None:
    # Arena's own sign-in of the teacher (authorization code): a token of a person.
    from tests.sso.conftest import RelyingParty

    arena = RelyingParty(
        client_id="arena-demo",
        client_secret="arena-demo-secret-a-ne-pas-utiliser-ailleurs",
        redirect_uri="http://127.0.0.1:8002/oidc/callback",
    )
    browser = signed_in(teacher)
    code, verifier = obtain_code(browser, arena)
    tokens = redeem(Client(), arena, code, verifier)
    assert tokens.status_code == 200, tokens.content
    person_token = tokens.json()["access_token"]

    response = post(person_token, payload(teacher.login))

    assert response.status_code == 401
    assert not teacher.notifications.exists()


def test_access_withdrawn_applies_to_tokens_already_issued(teacher: Any, arena_token: str) -> None:
    ApiClient.objects.all().delete()

    assert post(arena_token, payload(teacher.login)).status_code == 401


def test_scope_missing_for_the_category_is_403_insufficient_scope(teacher: Any) -> None:
    token = service_token("notifications:services")

    response = post(token, payload(teacher.login, categorie="annonces"))

    assert response.status_code == 403
    assert response.json()["code"] == "portee_insuffisante"
    assert 'error="insufficient_scope"' in response["WWW-Authenticate"]
    assert 'scope="notifications:annonces"' in response["WWW-Authenticate"]
    assert not teacher.notifications.exists()


def test_security_category_is_refused_with_why(teacher: Any, arena_token: str) -> None:
    response = post(arena_token, payload(teacher.login, categorie="securite"))

    assert response.status_code == 403
    assert response.json()["code"] == "categorie_interdite"
    assert "sécurité" in response.json()["detail"]
    assert not teacher.notifications.exists()


def test_token_of_a_client_since_switched_to_public_is_refused(
    teacher: Any, arena_token: str
) -> None:
    _make_arena_public()

    assert post(arena_token, payload(teacher.login)).status_code == 401
    assert not teacher.notifications.exists()
