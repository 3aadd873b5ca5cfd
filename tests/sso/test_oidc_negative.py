"""What the OpenID Connect provider refuses: every request a careless or hostile relying
party could make, driven with Django's test client."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from convergence.audit.models import AuditEvent
from convergence.portal.models import Service
from convergence.sso import actions, events
from convergence.sso import tokens as sso_tokens
from convergence.sso.models import Consent

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
from .conftest import introspect as introspect_token

# --- redirect URIs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "http://ARENA.test:8001/oidc/callback",
        "http://arena.test:8001/oidc/CALLBACK",
        "http://arena.test:8001/oidc/callback/extra",
        "http://arena.test:8001/oidc/callbackx",
        "http://arena.test:8001/oidc/callback?next=/",
        "http://arena.test:8001/oidc/callback#fragment",
        "http://arena.test:8001/oidc/%63allback",
        "http://arena.test:8001/oidc%2Fcallback",
        "http://arena.test:8002/oidc/callback",
        "http://arena.test/oidc/callback",
        "http://arena.test:8001/oidc/callback/",
        "https://arena.test:8001/oidc/callback",
        "http://arena.test.evil.example:8001/oidc/callback",
        "http://evil.example/?http://arena.test:8001/oidc/callback",
    ],
)
def test_redirect_uri_variant_is_refused_without_redirecting(
    teacher: Any, arena: RelyingParty, variant: str
) -> None:
    _, challenge = pkce_pair()
    response = signed_in(teacher).get(
        authorize_url(arena, challenge=challenge, redirect_uri=variant)
    )

    assert response.status_code == 400
    assert "Location" not in response
    assert "Connexion au service impossible" in response.content.decode()


def test_missing_redirect_uri_is_refused_without_redirecting(
    teacher: Any, arena: RelyingParty
) -> None:
    _, challenge = pkce_pair()
    url = authorize_url(arena, challenge=challenge).replace("redirect_uri=", "ignored=")

    response = signed_in(teacher).get(url)

    assert response.status_code == 400
    assert "Location" not in response


def test_unknown_client_is_refused_without_redirecting(teacher: Any, arena: RelyingParty) -> None:
    _, challenge = pkce_pair()
    response = signed_in(teacher).get(
        authorize_url(arena, challenge=challenge, client_id="inconnu")
    )

    assert response.status_code == 400
    assert "Location" not in response


# --- PKCE -------------------------------------------------------------------------------


def test_authorization_without_pkce_is_refused(teacher: Any, arena: RelyingParty) -> None:
    response = signed_in(teacher).get(authorize_url(arena, challenge=None))

    assert response.status_code == 302
    answer = query_of(response["Location"])
    assert answer["error"] == "invalid_request"
    assert "code" not in answer


def test_plain_pkce_is_refused(teacher: Any, arena: RelyingParty) -> None:
    response = signed_in(teacher).get(
        authorize_url(arena, challenge=None, code_challenge="a" * 50, code_challenge_method="plain")
    )

    assert response.status_code == 302
    answer = query_of(response["Location"])
    assert answer["error"] == "invalid_request"
    assert "code" not in answer


def test_token_request_without_verifier_fails(teacher: Any, arena: RelyingParty) -> None:
    client = signed_in(teacher)
    code, _ = obtain_code(client, arena)

    response = redeem(Client(), arena, code, verifier=None)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_token_request_with_wrong_verifier_fails(teacher: Any, arena: RelyingParty) -> None:
    client = signed_in(teacher)
    code, _ = obtain_code(client, arena)
    other_verifier, _ = pkce_pair()

    response = redeem(Client(), arena, code, verifier=other_verifier)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.filter(user=teacher).exists()


def test_wrong_verifier_burns_the_code(teacher: Any, arena: RelyingParty) -> None:
    code, verifier = obtain_code(signed_in(teacher), arena)
    wrong, _ = pkce_pair()
    rp = Client()
    assert redeem(rp, arena, code, verifier=wrong).status_code == 400

    response = redeem(rp, arena, code, verifier)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.filter(user=teacher).exists()
    assert AuditEvent.objects.of_type(events.CODE_REUSED).filter(subject=teacher).exists()


def test_wrong_verifier_is_audited_with_the_code_owner(teacher: Any, arena: RelyingParty) -> None:
    code, _ = obtain_code(signed_in(teacher), arena)
    wrong, _ = pkce_pair()

    redeem(Client(), arena, code, verifier=wrong)

    event = AuditEvent.objects.of_type(events.CODE_VERIFIER_REJECTED).get()
    assert event.subject == teacher
    assert event.data == {"client_id": arena.client_id}
    assert code not in str(event.data)


def test_missing_verifier_burns_the_code_too(teacher: Any, arena: RelyingParty) -> None:
    code, verifier = obtain_code(signed_in(teacher), arena)
    rp = Client()
    assert redeem(rp, arena, code, verifier=None).json()["error"] == "invalid_request"

    response = redeem(rp, arena, code, verifier)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.filter(user=teacher).exists()


# --- codes ------------------------------------------------------------------------------


def test_reused_code_fails_and_revokes_what_it_issued(
    teacher: Any, arena: RelyingParty, mail_server: RelyingParty
) -> None:
    code, verifier = obtain_code(signed_in(teacher), arena)
    rp = Client()
    first = redeem(rp, arena, code, verifier)
    assert first.status_code == 200
    tokens = first.json()

    second = redeem(rp, arena, code, verifier)

    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
    assert introspect_token(rp, mail_server, tokens["access_token"])["active"] is False
    assert refresh(rp, arena, tokens["refresh_token"]).status_code == 400
    assert AuditEvent.objects.of_type(events.CODE_REUSED).exists()


def test_expired_code_fails(teacher: Any, arena: RelyingParty) -> None:
    code, verifier = obtain_code(signed_in(teacher), arena)
    Grant.objects.filter(user=teacher).update(
        expires=timezone.now() - datetime.timedelta(seconds=1)
    )

    response = redeem(Client(), arena, code, verifier)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_code_lives_sixty_seconds_at_most(teacher: Any, arena: RelyingParty) -> None:
    obtain_code(signed_in(teacher), arena)
    grant = Grant.objects.get(user=teacher)

    assert grant.expires - timezone.now() <= datetime.timedelta(seconds=60)


def test_code_of_another_client_fails(
    teacher: Any, arena: RelyingParty, quiz: RelyingParty
) -> None:
    code, verifier = obtain_code(signed_in(teacher), arena)
    stolen = RelyingParty(
        client_id=quiz.client_id, client_secret=quiz.client_secret, redirect_uri=arena.redirect_uri
    )

    response = redeem(Client(), stolen, code, verifier)

    assert response.status_code == 400
    assert not AccessToken.objects.filter(user=teacher).exists()


# --- refresh tokens -----------------------------------------------------------------------


def _tokens(user: Any, rp: RelyingParty) -> dict[str, Any]:
    code, verifier = obtain_code(signed_in(user), rp)
    response = redeem(Client(), rp, code, verifier)
    assert response.status_code == 200, response.content
    tokens: dict[str, Any] = response.json()
    return tokens


def test_refresh_rotates_the_refresh_token(teacher: Any, arena: RelyingParty) -> None:
    tokens = _tokens(teacher, arena)

    response = refresh(Client(), arena, tokens["refresh_token"])

    assert response.status_code == 200
    assert response.json()["refresh_token"] != tokens["refresh_token"]
    assert "id_token" not in response.json()


def test_reused_refresh_token_revokes_the_family(
    teacher: Any, arena: RelyingParty, mail_server: RelyingParty
) -> None:
    tokens = _tokens(teacher, arena)
    rp = Client()
    rotated = refresh(rp, arena, tokens["refresh_token"]).json()

    replay = refresh(rp, arena, tokens["refresh_token"])

    assert replay.status_code == 400
    assert refresh(rp, arena, rotated["refresh_token"]).status_code == 400
    assert introspect_token(rp, mail_server, rotated["access_token"])["active"] is False


def _age_family(user: Any, *, seconds: int) -> None:
    """Make the person's refresh family ``seconds`` old (its birth is written in its id)."""
    family = RefreshToken.objects.filter(user=user).values_list("token_family", flat=True)[0]
    born = timezone.now() - datetime.timedelta(seconds=seconds)
    RefreshToken.objects.filter(token_family=family).update(
        token_family=sso_tokens.new_family(born=born)
    )


def test_refresh_family_has_an_absolute_lifetime(teacher: Any, arena: RelyingParty) -> None:
    tokens = _tokens(teacher, arena)
    rp = Client()
    rotated = refresh(rp, arena, tokens["refresh_token"]).json()
    _age_family(teacher, seconds=settings.OIDC_REFRESH_ABSOLUTE_SECONDS + 1)

    response = refresh(rp, arena, rotated["refresh_token"])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_refresh_within_the_absolute_lifetime_succeeds(teacher: Any, arena: RelyingParty) -> None:
    tokens = _tokens(teacher, arena)
    _age_family(teacher, seconds=settings.OIDC_REFRESH_ABSOLUTE_SECONDS - 60)

    assert refresh(Client(), arena, tokens["refresh_token"]).status_code == 200


def test_family_from_before_time_ordered_ids_is_dated_by_its_first_token(
    teacher: Any, arena: RelyingParty
) -> None:
    tokens = _tokens(teacher, arena)
    rp = Client()
    rotated = refresh(rp, arena, tokens["refresh_token"]).json()
    legacy = uuid.uuid4()
    born = timezone.now() - datetime.timedelta(seconds=settings.OIDC_REFRESH_ABSOLUTE_SECONDS + 1)
    RefreshToken.objects.filter(user=teacher).update(token_family=legacy)
    RefreshToken.objects.filter(user=teacher).exclude(revoked=None).update(created=born)

    response = refresh(rp, arena, rotated["refresh_token"])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


# --- response types and scopes ----------------------------------------------------------


@pytest.mark.parametrize(
    "response_type", ["token", "id_token", "id_token token", "code id_token", "code token"]
)
def test_implicit_and_hybrid_response_types_are_refused(
    teacher: Any, arena: RelyingParty, response_type: str
) -> None:
    _, challenge = pkce_pair()
    response = signed_in(teacher).get(
        authorize_url(arena, challenge=challenge, response_type=response_type)
    )

    location = response.get("Location", "")
    assert "access_token=" not in location
    assert "id_token=" not in location
    assert "code=" not in location
    assert not AccessToken.objects.filter(user=teacher).exists()


def test_server_scope_is_refused_in_a_code_flow(teacher: Any, arena: RelyingParty) -> None:
    _, challenge = pkce_pair()
    response = signed_in(teacher).get(
        authorize_url(arena, challenge=challenge, scope="openid introspection")
    )

    assert response.status_code == 302
    answer = query_of(response["Location"])
    assert answer["error"] == "invalid_scope"
    assert "code" not in answer


def test_unknown_scope_is_refused(teacher: Any, arena: RelyingParty) -> None:
    _, challenge = pkce_pair()
    response = signed_in(teacher).get(
        authorize_url(arena, challenge=challenge, scope="openid write:everything")
    )

    assert query_of(response["Location"])["error"] == "invalid_scope"


def test_server_client_cannot_ask_for_person_scopes(mail_server: RelyingParty) -> None:
    response = Client().post(
        "/oidc/token/",
        {"grant_type": "client_credentials", "scope": "openid profile"},
        HTTP_AUTHORIZATION=basic_auth(mail_server),
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_password_grant_is_refused(teacher: Any, arena: RelyingParty) -> None:
    response = Client().post(
        "/oidc/token/",
        {"grant_type": "password", "username": teacher.login, "password": teacher.demo_password},
        HTTP_AUTHORIZATION=basic_auth(arena),
    )

    assert response.status_code == 400
    assert not AccessToken.objects.filter(user=teacher).exists()


# --- prompt and max_age -----------------------------------------------------------------


def test_silent_request_without_session_answers_login_required(arena: RelyingParty) -> None:
    _, challenge = pkce_pair()
    response = Client().get(authorize_url(arena, challenge=challenge, prompt="none"))

    assert response.status_code == 302
    assert response["Location"].startswith(arena.redirect_uri)
    answer = query_of(response["Location"])
    assert answer["error"] == "login_required"
    assert answer["state"] == "etat-123"


def test_silent_request_with_session_returns_a_code(teacher: Any, arena: RelyingParty) -> None:
    code, _ = obtain_code(signed_in(teacher), arena, prompt="none")

    assert code


def test_silent_request_needing_consent_answers_consent_required(
    pupil: Any, quiz: RelyingParty
) -> None:
    _, challenge = pkce_pair()
    response = signed_in(pupil).get(authorize_url(quiz, challenge=challenge, prompt="none"))

    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "consent_required"


def test_silent_request_with_bad_redirect_uri_does_not_redirect(arena: RelyingParty) -> None:
    _, challenge = pkce_pair()
    response = Client().get(
        authorize_url(
            arena, challenge=challenge, prompt="none", redirect_uri="https://evil.example/cb"
        )
    )

    assert response.status_code == 400
    assert "Location" not in response


def test_prompt_login_shows_the_sign_in_page(teacher: Any, arena: RelyingParty) -> None:
    _, challenge = pkce_pair()
    response = signed_in(teacher).get(authorize_url(arena, challenge=challenge, prompt="login"))

    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")


def test_max_age_exceeded_shows_the_sign_in_page(teacher: Any, arena: RelyingParty) -> None:
    client = signed_in(teacher)
    session = client.session
    session["convergence_auth_time"] = (timezone.now() - datetime.timedelta(hours=1)).timestamp()
    session.save()
    _, challenge = pkce_pair()

    response = client.get(authorize_url(arena, challenge=challenge, max_age="600"))

    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")


def test_max_age_not_exceeded_returns_a_code(teacher: Any, arena: RelyingParty) -> None:
    code, _ = obtain_code(signed_in(teacher), arena, max_age="600")

    assert code


def test_anonymous_request_shows_the_sign_in_page(arena: RelyingParty) -> None:
    _, challenge = pkce_pair()
    response = Client().get(authorize_url(arena, challenge=challenge))

    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")


# --- audience and consent ---------------------------------------------------------------


def test_user_outside_the_audience_is_refused_without_code(pupil: Any, arena: RelyingParty) -> None:
    _, challenge = pkce_pair()
    response = signed_in(pupil).get(authorize_url(arena, challenge=challenge))

    assert response.status_code == 403
    assert "Accès au service refusé" in response.content.decode()
    assert "Location" not in response
    assert not Grant.objects.filter(user=pupil).exists()
    assert AuditEvent.objects.of_type(events.SERVICE_REFUSED).exists()


def test_user_outside_the_audience_cannot_post_the_consent_form(
    pupil: Any, arena: RelyingParty
) -> None:
    _, challenge = pkce_pair()
    response = signed_in(pupil).post(
        "/oidc/authorize/",
        {
            "client_id": arena.client_id,
            "redirect_uri": arena.redirect_uri,
            "response_type": "code",
            "scope": "openid",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "allow": "Authorize",
        },
    )

    assert response.status_code == 403
    assert not Grant.objects.filter(user=pupil).exists()


def test_third_party_asks_consent_then_remembers_it(pupil: Any, quiz: RelyingParty) -> None:
    client = signed_in(pupil)
    _, challenge = pkce_pair()
    url = authorize_url(quiz, challenge=challenge, scope="openid profile")

    page = client.get(url)

    assert page.status_code == 200
    content = page.content.decode()
    assert "Autoriser Quiz extérieur ?" in content
    assert "Vos nom, prénom, identifiant et profils" in content
    form = page.context["form"]
    answer = {name: value for name, value in form.initial.items() if value is not None}
    allowed = client.post("/oidc/authorize/", answer | {"allow": "Authorize"})
    assert allowed.status_code == 302
    assert "code" in query_of(allowed["Location"])
    assert Consent.objects.get(user=pupil).covers({"openid", "profile"})

    again = client.get(url)

    assert again.status_code == 302
    assert "code" in query_of(again["Location"])


def test_third_party_consent_refused_sends_access_denied(pupil: Any, quiz: RelyingParty) -> None:
    client = signed_in(pupil)
    _, challenge = pkce_pair()
    page = client.get(authorize_url(quiz, challenge=challenge))
    answer = {k: v for k, v in page.context["form"].initial.items() if v is not None}

    refused = client.post("/oidc/authorize/", answer)

    assert query_of(refused["Location"])["error"] == "access_denied"
    assert not Consent.objects.filter(user=pupil).exists()


def test_consent_for_fewer_scopes_is_asked_again_for_more(pupil: Any, quiz: RelyingParty) -> None:
    service = Service.objects.get(slug="quiz-exterieur")
    actions.grant_consent(user=pupil, service=service, scopes={"openid"})
    _, challenge = pkce_pair()

    response = signed_in(pupil).get(authorize_url(quiz, challenge=challenge, scope="openid email"))

    assert response.status_code == 200
    assert "Votre adresse électronique" in response.content.decode()


def test_first_party_service_skips_consent(teacher: Any, arena: RelyingParty) -> None:
    code, _ = obtain_code(signed_in(teacher), arena)

    assert code
    assert not Consent.objects.filter(user=teacher).exists()


# --- introspection: the académie's servers only ---------------------------------------------


def test_a_service_cannot_introspect_tokens_with_its_own_credentials(
    teacher, arena, quiz, mail_server
):
    # The toolkit let any client that authenticated introspect any token: the quiz could ask
    # who holds the Arena's token, and get the person's login and scopes.
    client = signed_in(teacher)
    code, verifier = obtain_code(client, arena)
    token = redeem(client, arena, code, verifier).json()["access_token"]
    response = Client().post(
        "/oidc/introspect/", {"token": token}, HTTP_AUTHORIZATION=basic_auth(quiz)
    )
    assert response.status_code == 403
    assert b"username" not in response.content


def test_the_mail_server_introspects_with_its_credentials(teacher, arena, mail_server):
    client = signed_in(teacher)
    code, verifier = obtain_code(client, arena)
    token = redeem(client, arena, code, verifier).json()["access_token"]
    response = Client().post(
        "/oidc/introspect/", {"token": token}, HTTP_AUTHORIZATION=basic_auth(mail_server)
    )
    assert response.status_code == 200
    assert response.json()["active"] is True
    assert introspect_token(Client(), mail_server, token)["active"] is True
