"""The token endpoint's own refresh-token and client-credentials grants (sso/grants.py) and
the per-process client cache (sso/clients.py), through real requests to /oidc/token/."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken

from convergence.accounts.models import AccountState
from convergence.audit.models import AuditEvent
from convergence.core.blueprints import apply
from convergence.portal.models import Service
from convergence.sso import actions, clients, events
from convergence.sso import tokens as sso_tokens
from convergence.sso.hashers import ALGORITHM
from tests.conftest import demo_blueprint

from .conftest import (
    MAIL,
    RelyingParty,
    basic_auth,
    obtain_code,
    redeem,
    refresh,
    signed_in,
)
from .conftest import introspect as introspect_token

PHONE = RelyingParty(
    client_id="arena-mobile", client_secret="", redirect_uri="http://arena.test:8001/mobile/cb"
)


@pytest.fixture(autouse=True)
def fresh_clients() -> Iterator[None]:
    # The cache lives as long as the process; each test starts from its own database.
    clients.forget()
    yield
    clients.forget()


@pytest.fixture
def phone(demo: None) -> RelyingParty:
    """A phone app of the Arena: a public client (no secret, PKCE)."""
    service = dict(next(s for s in demo_blueprint()["services"] if s["slug"] == "arena"))
    service["oidc"] = {
        "client_id": PHONE.client_id,
        "public": True,
        "redirect_uris": [PHONE.redirect_uri],
        "first_party": True,
    }
    apply({"services": [service]})
    return PHONE


def _tokens(user: Any, rp: RelyingParty) -> dict[str, Any]:
    code, verifier = obtain_code(signed_in(user), rp)
    response = redeem(Client(), rp, code, verifier)
    assert response.status_code == 200, response.content
    tokens: dict[str, Any] = response.json()
    return tokens


def _refresh_post(rp: RelyingParty, refresh_token: str, **extra: str) -> Any:
    """client_secret_post: the credentials in the body, as the bench's clients send them."""
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    data["client_id"] = rp.client_id
    if rp.client_secret:
        data["client_secret"] = rp.client_secret
    return Client().post("/oidc/token/", data)


def _server_token(server: RelyingParty, secret: str | None = None, **data: str) -> Any:
    raw = f"{server.client_id}:{server.client_secret if secret is None else secret}"
    return Client().post(
        "/oidc/token/",
        {"grant_type": "client_credentials", **data},
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(raw.encode()).decode(),
    )


# --- refresh_token --------------------------------------------------------------------------


def test_refresh_with_secret_in_body_rotates_both_tokens(teacher: Any, arena: RelyingParty) -> None:
    tokens = _tokens(teacher, arena)

    response = _refresh_post(arena, tokens["refresh_token"])

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["refresh_token"] != tokens["refresh_token"]
    assert body["access_token"] != tokens["access_token"]
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid"
    assert "id_token" not in body
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"


def test_rotation_revokes_the_old_pair_and_keeps_the_family(
    teacher: Any, arena: RelyingParty, mail_server: RelyingParty
) -> None:
    tokens = _tokens(teacher, arena)
    family = RefreshToken.objects.get(user=teacher).token_family

    rotated = _refresh_post(arena, tokens["refresh_token"]).json()

    assert introspect_token(Client(), mail_server, tokens["access_token"])["active"] is False
    assert introspect_token(Client(), mail_server, rotated["access_token"])["active"] is True
    live = RefreshToken.objects.get(user=teacher, revoked=None)
    assert live.token_family == family
    assert RefreshToken.objects.filter(user=teacher).exclude(revoked=None).count() == 1


def test_tokens_are_stored_hashed(teacher: Any, arena: RelyingParty) -> None:
    tokens = _tokens(teacher, arena)

    rotated = _refresh_post(arena, tokens["refresh_token"]).json()

    assert not RefreshToken.objects.filter(token=rotated["refresh_token"]).exists()
    assert not AccessToken.objects.filter(token=rotated["access_token"]).exists()
    assert set(RefreshToken.objects.values_list("token", flat=True)) == {""}


def test_replayed_refresh_token_revokes_the_family_and_is_audited(
    teacher: Any, arena: RelyingParty, mail_server: RelyingParty
) -> None:
    tokens = _tokens(teacher, arena)
    rotated = _refresh_post(arena, tokens["refresh_token"]).json()

    replay = _refresh_post(arena, tokens["refresh_token"])

    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert _refresh_post(arena, rotated["refresh_token"]).status_code == 400
    assert introspect_token(Client(), mail_server, rotated["access_token"])["active"] is False
    assert not RefreshToken.objects.filter(user=teacher, revoked=None).exists()
    # The replay, then the revoked successor presented: each audited with the owner.
    audited = AuditEvent.objects.of_type(events.REFRESH_TOKEN_REUSED).filter(subject=teacher)
    assert [event.data for event in audited] == [{"client_id": arena.client_id}] * 2


def test_token_rotated_by_a_concurrent_request_cannot_rotate_again(
    teacher: Any, arena: RelyingParty
) -> None:
    _tokens(teacher, arena)
    presented = RefreshToken.objects.select_related("user").get(user=teacher)
    application = Application.objects.get(client_id=arena.client_id)
    rotation = {
        "presented": presented,
        "application": application,
        "scope": "openid",
        "expires": presented.created,
    }

    first = actions.rotate_refresh_token(**rotation, access_token="a1", refresh_token="r1")
    second = actions.rotate_refresh_token(**rotation, access_token="a2", refresh_token="r2")

    assert first is not None
    assert second is None
    assert RefreshToken.objects.filter(user=teacher, revoked=None).count() == 1


def test_unknown_refresh_token_is_refused(arena: RelyingParty) -> None:
    response = _refresh_post(arena, "pas-un-jeton")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_missing_refresh_token_is_an_invalid_request(arena: RelyingParty) -> None:
    response = Client().post(
        "/oidc/token/", {"grant_type": "refresh_token"}, HTTP_AUTHORIZATION=basic_auth(arena)
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_refresh_token_of_another_client_is_refused_and_stays_usable(
    pupil: Any, quiz: RelyingParty, arena: RelyingParty
) -> None:
    quiz_service = Service.objects.get(slug="quiz-exterieur")
    actions.grant_consent(user=pupil, service=quiz_service, scopes={"openid"})
    tokens = _tokens(pupil, quiz)

    stolen = _refresh_post(arena, tokens["refresh_token"])

    assert stolen.status_code == 400
    assert stolen.json()["error"] == "invalid_grant"
    assert _refresh_post(quiz, tokens["refresh_token"]).status_code == 200


def test_wrong_secret_is_refused_as_invalid_client(teacher: Any, arena: RelyingParty) -> None:
    tokens = _tokens(teacher, arena)
    impostor = RelyingParty(arena.client_id, "mauvais-secret-" * 3, arena.redirect_uri)

    by_body = _refresh_post(impostor, tokens["refresh_token"])
    by_basic = refresh(Client(), impostor, tokens["refresh_token"])

    assert by_body.status_code == 401
    assert by_body.json()["error"] == "invalid_client"
    assert by_basic.status_code == 401
    assert by_basic["WWW-Authenticate"].startswith('Bearer error="invalid_client"')
    assert _refresh_post(arena, tokens["refresh_token"]).status_code == 200


def test_confidential_client_without_secret_is_refused(teacher: Any, arena: RelyingParty) -> None:
    tokens = _tokens(teacher, arena)
    nameless = RelyingParty(arena.client_id, "", arena.redirect_uri)

    response = _refresh_post(nameless, tokens["refresh_token"])

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_public_client_refreshes_with_its_client_id_alone(
    teacher: Any, phone: RelyingParty
) -> None:
    code, verifier = obtain_code(signed_in(teacher), phone)
    tokens = (
        Client()
        .post(
            "/oidc/token/",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": phone.redirect_uri,
                "client_id": phone.client_id,
                "code_verifier": verifier,
            },
        )
        .json()
    )

    response = _refresh_post(phone, tokens["refresh_token"])

    assert response.status_code == 200, response.content
    assert response.json()["refresh_token"] != tokens["refresh_token"]


def test_account_no_longer_active_cannot_refresh(teacher: Any, arena: RelyingParty) -> None:
    tokens = _tokens(teacher, arena)
    # Without the action (which revokes everything): the grant checks the account itself.
    type(teacher).objects.filter(pk=teacher.pk).update(state=AccountState.SUSPENDED)

    response = _refresh_post(arena, tokens["refresh_token"])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_narrower_scope_may_be_asked_never_a_wider_one(teacher: Any, arena: RelyingParty) -> None:
    code, verifier = obtain_code(signed_in(teacher), arena, scope="openid profile")
    tokens = redeem(Client(), arena, code, verifier).json()

    wider = _refresh_post(arena, tokens["refresh_token"], scope="openid profile email")
    narrower = _refresh_post(arena, tokens["refresh_token"], scope="openid")

    assert wider.status_code == 400
    assert wider.json()["error"] == "invalid_scope"
    assert narrower.status_code == 200
    assert narrower.json()["scope"] == "openid"


def test_server_client_cannot_use_a_refresh_token_grant_of_a_person(
    teacher: Any, arena: RelyingParty, mail_server: RelyingParty
) -> None:
    tokens = _tokens(teacher, arena)

    response = _refresh_post(mail_server, tokens["refresh_token"])

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_request_with_an_origin_is_left_to_the_toolkit_with_the_same_rules(
    teacher: Any, arena: RelyingParty
) -> None:
    tokens = _tokens(teacher, arena)
    rp = Client(HTTP_ORIGIN="https://arena.exemple.fr")

    rotated = refresh(rp, arena, tokens["refresh_token"])
    replay = refresh(rp, arena, tokens["refresh_token"])

    assert rotated.status_code == 200
    assert replay.status_code == 400
    assert refresh(Client(), arena, rotated.json()["refresh_token"]).status_code == 400


def test_a_replay_through_the_toolkit_is_audited_as_on_the_fast_path(
    teacher: Any, arena: RelyingParty
) -> None:
    tokens = _tokens(teacher, arena)
    rp = Client(HTTP_ORIGIN="https://arena.exemple.fr")
    assert refresh(rp, arena, tokens["refresh_token"]).status_code == 200
    assert refresh(rp, arena, tokens["refresh_token"]).status_code == 400
    audited = AuditEvent.objects.of_type(events.REFRESH_TOKEN_REUSED).filter(subject=teacher)
    assert [event.data for event in audited] == [{"client_id": arena.client_id}]
    assert not RefreshToken.objects.filter(user=teacher, revoked=None).exists()


def test_a_refresh_reads_once_and_writes_four_rows(
    teacher: Any, arena: RelyingParty, django_assert_max_num_queries: Any
) -> None:
    tokens = _tokens(teacher, arena)
    rotated = _refresh_post(arena, tokens["refresh_token"]).json()

    # One read, then revoke, delete, insert, insert (savepoints in tests).
    with django_assert_max_num_queries(7):
        assert _refresh_post(arena, rotated["refresh_token"]).status_code == 200


# --- client_credentials -------------------------------------------------------------------


def test_server_gets_a_token_with_its_secret_in_the_body(mail_server: RelyingParty) -> None:
    response = Client().post(
        "/oidc/token/",
        {
            "grant_type": "client_credentials",
            "scope": "introspection",
            "client_id": mail_server.client_id,
            "client_secret": mail_server.client_secret,
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == "introspection"
    assert "refresh_token" not in body
    assert AccessToken.objects.get(application__client_id=MAIL.client_id).user is None


def test_server_with_a_wrong_secret_is_refused(mail_server: RelyingParty) -> None:
    response = _server_token(mail_server, secret="mauvais-secret", scope="introspection")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_server_without_scope_gets_none_of_the_people_s_scopes(
    mail_server: RelyingParty,
) -> None:
    response = _server_token(mail_server)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_catalogue_client_cannot_use_client_credentials(arena: RelyingParty) -> None:
    response = _server_token(arena, scope="introspection")

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_public_client_cannot_use_client_credentials(phone: RelyingParty) -> None:
    response = Client().post(
        "/oidc/token/",
        {
            "grant_type": "client_credentials",
            "scope": "introspection",
            "client_id": PHONE.client_id,
        },
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_catalogue_client_made_public_gets_no_service_scope_with_its_old_secret(
    arena: RelyingParty,
) -> None:
    # The demo's Arena holds API scopes (blueprint ``api:``); here it is the ``arena`` client.
    assert _server_token(arena, scope="notifications:annonces").status_code == 200
    Application.objects.filter(client_id=arena.client_id).update(
        client_type=Application.CLIENT_PUBLIC
    )
    clients.forget()

    response = _server_token(arena, scope="notifications:annonces")

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_a_client_credentials_grant_writes_one_row(
    mail_server: RelyingParty, django_assert_num_queries: Any
) -> None:
    _server_token(mail_server, scope="introspection")

    with django_assert_num_queries(1):
        assert _server_token(mail_server, scope="introspection").status_code == 200


# --- the client cache ---------------------------------------------------------------------


def _set_secret_behind_the_cache(client_id: str, secret: str) -> None:
    # As another process (or host) would: the database changes, this process is not told.
    Application.objects.filter(client_id=client_id).update(
        client_secret=make_password(secret, hasher=ALGORITHM)
    )


def test_secret_changed_elsewhere_applies_within_the_cache_lifetime(
    mail_server: RelyingParty, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(clients, "clock", lambda: now[0])
    assert _server_token(mail_server, scope="introspection").status_code == 200
    new_secret = "nouveau-secret-de-la-messagerie-assez-long"
    _set_secret_behind_the_cache(mail_server.client_id, new_secret)

    now[0] += clients.CLIENT_CACHE_SECONDS - 0.5
    still_old = _server_token(mail_server, scope="introspection")
    now[0] += 1
    old_after = _server_token(mail_server, scope="introspection")
    new_after = _server_token(mail_server, secret=new_secret, scope="introspection")

    assert still_old.status_code == 200
    assert old_after.status_code == 401
    assert new_after.status_code == 200


def test_client_deleted_elsewhere_is_refused_after_the_cache_lifetime(
    teacher: Any, arena: RelyingParty, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(clients, "clock", lambda: now[0])
    tokens = _tokens(teacher, arena)
    Application.objects.filter(client_id=arena.client_id).update(client_id="arena-supprime")

    now[0] += clients.CLIENT_CACHE_SECONDS + 0.1
    response = _refresh_post(arena, tokens["refresh_token"])

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_blueprint_change_applies_at_once_in_this_process(mail_server: RelyingParty) -> None:
    assert _server_token(mail_server, scope="introspection").status_code == 200
    new_secret = "nouveau-secret-de-la-messagerie-assez-long"

    apply(
        {
            "server_clients": [
                {
                    "client_id": mail_server.client_id,
                    "name": "Serveur de messagerie",
                    "client_secret": new_secret,
                }
            ]
        }
    )

    assert _server_token(mail_server, scope="introspection").status_code == 401
    assert _server_token(mail_server, secret=new_secret, scope="introspection").status_code == 200


def test_client_saved_in_this_process_applies_at_once(mail_server: RelyingParty) -> None:
    # What the administration's form does: a model save.
    assert _server_token(mail_server, scope="introspection").status_code == 200
    application = Application.objects.get(client_id=mail_server.client_id)

    application.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    application.save(update_fields=["authorization_grant_type"])

    assert _server_token(mail_server, scope="introspection").status_code == 400


def test_cached_client_is_a_copy_for_each_request(mail_server: RelyingParty) -> None:
    first = clients.application(mail_server.client_id)
    assert first is not None
    first.name = "changé par une requête"

    second = clients.application(mail_server.client_id)

    assert second is not None
    assert second.name != first.name


# --- families -----------------------------------------------------------------------------


def test_new_family_id_carries_its_birth() -> None:
    born = timezone.now() - datetime.timedelta(days=3)

    family = sso_tokens.new_family(born=born)

    assert family.version == 7
    assert abs(sso_tokens.family_born(family) - born) < datetime.timedelta(milliseconds=1)  # type: ignore[operator]


def test_live_token_wins_over_a_revoked_one_with_the_same_checksum(
    teacher: Any, arena: RelyingParty
) -> None:
    tokens = _tokens(teacher, arena)
    live = RefreshToken.objects.get(user=teacher)
    stale = RefreshToken.objects.create(
        user=teacher,
        application=live.application,
        token_family=live.token_family,
        revoked=timezone.now(),
    )
    RefreshToken.objects.filter(pk=stale.pk).update(token_checksum=live.token_checksum)

    found = sso_tokens.presented_refresh_token(tokens["refresh_token"])

    assert found is not None and found.pk == live.pk
    assert found.access_token is not None and found.access_token.scope == "openid"
    assert found.user.is_active


def test_replaying_a_dead_token_cannot_fill_the_audit_trail(
    teacher: Any, arena: RelyingParty
) -> None:
    from convergence.sso.actions.tokens import REUSE_AUDITS_PER_FAMILY

    tokens = _tokens(teacher, arena)
    _refresh_post(arena, tokens["refresh_token"])
    for _ in range(REUSE_AUDITS_PER_FAMILY + 5):
        assert _refresh_post(arena, tokens["refresh_token"]).status_code == 400
    audited = AuditEvent.objects.of_type(events.REFRESH_TOKEN_REUSED).filter(subject=teacher)
    assert audited.count() == REUSE_AUDITS_PER_FAMILY
    assert audited.exclude(ip_address=None).count() == REUSE_AUDITS_PER_FAMILY


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("REFRESH_TOKEN_GRACE_PERIOD_SECONDS", 30),
        ("ROTATE_REFRESH_TOKEN", False),
        ("REFRESH_TOKEN_REUSE_PROTECTION", False),
    ],
)
def test_refresh_settings_this_path_does_not_apply_go_to_the_toolkit(
    rf: Any, monkeypatch: pytest.MonkeyPatch, setting: str, value: object
) -> None:
    from oauth2_provider.settings import oauth2_settings

    from convergence.sso import grants

    request = rf.post("/oidc/token/", {"grant_type": "refresh_token", "refresh_token": "x"})
    assert grants.handles(request)
    monkeypatch.setattr(oauth2_settings, setting, value)
    assert not grants.handles(request)


def test_a_password_reset_ends_the_services_sessions_and_tokens(
    teacher: Any, arena: RelyingParty
) -> None:
    from convergence.accounts.models import User
    from convergence.accounts.signals import account_password_reset
    from convergence.sso.models import SsoSession

    tokens = _tokens(teacher, arena)
    assert SsoSession.objects.active().filter(user=teacher).exists()
    account_password_reset.send(sender=User, user=teacher, request=None)
    assert not SsoSession.objects.active().filter(user=teacher).exists()
    assert _refresh_post(arena, tokens["refresh_token"]).status_code == 400
    assert not AccessToken.objects.filter(user=teacher).exists()
