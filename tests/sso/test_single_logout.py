"""Single logout: signing out of the portal tells every service the session opened, through
a background task, and a disabled account loses its sessions, tokens and tickets.

The services are real HTTP servers on 127.0.0.1 (threads of the test process) that record
what they receive; the portal's delivery task sends real requests to them.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from jwcrypto import jwk, jwt
from oauth2_provider.models import AccessToken, RefreshToken

from convergence.accounts.actions import change_account_state
from convergence.accounts.models import AccountState
from convergence.audit.models import AuditEvent
from convergence.core.blueprints import apply
from convergence.sso import events
from convergence.sso.logout import BACKCHANNEL_EVENT
from convergence.sso.models import LogoutState, Participation, SsoSession
from convergence.sso.tasks import deliver_logouts
from tests.conftest import stop_serving
from tests.helpers import sign_in_with_totp

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SECRET = "un-secret-de-test-assez-long-pour-le-portail"


class Recorder(ThreadingHTTPServer):
    def __init__(self, status: int) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.status = status
        self.received: list[dict[str, list[str]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/backchannel"


class Handler(BaseHTTPRequestHandler):
    server: Recorder

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.server.received.append(parse_qs(self.rfile.read(length).decode()))
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def relying_party() -> Iterator[Recorder]:
    server = Recorder(status=200)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    stop_serving(server, thread)


def register_client(backchannel_uri: str) -> None:
    apply(
        {
            "services": [
                {
                    "slug": "appli-test",
                    "name": "Appli de test",
                    "description": "Service de test.",
                    "url": "https://appli.exemple.fr/",
                    "category": "gestion",
                    "audience": "everyone",
                    "oidc": {
                        "client_id": "appli-test",
                        "client_secret": SECRET,
                        "redirect_uris": ["https://appli.exemple.fr/callback"],
                        "backchannel_logout_uri": backchannel_uri,
                        "first_party": True,
                    },
                }
            ]
        }
    )


def sign_in_and_open_service(user: Any, **extra: str) -> tuple[Client, dict[str, Any]]:
    """Sign in to the portal, then let the service complete a code flow (``extra``
    authorization parameters added); returns its tokens."""
    browser = Client()
    response = browser.post("/connexion/", {"login": user.login, "password": user.demo_password})
    assert response.status_code == 302
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    response = browser.get(
        "/oidc/authorize/",
        {
            "response_type": "code",
            "client_id": "appli-test",
            "redirect_uri": "https://appli.exemple.fr/callback",
            "scope": "openid profile",
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        },
    )
    assert response.status_code == 302, response.content
    code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
    response = Client().post(
        "/oidc/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://appli.exemple.fr/callback",
            "client_id": "appli-test",
            "client_secret": SECRET,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.content
    return browser, json.loads(response.content)


def claims_of(id_token: str) -> dict[str, Any]:
    key = jwk.JWK.from_pem(settings.OIDC_ACTIVE_KEY.encode())
    return json.loads(jwt.JWT(jwt=id_token, key=key).claims)


@pytest.mark.django_db(transaction=True)
def test_portal_logout_sends_a_signed_logout_token(
    teacher: Any, relying_party: Recorder, settings: Any
) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    register_client(relying_party.url)
    browser, tokens = sign_in_and_open_service(teacher)
    sid = claims_of(tokens["id_token"])["sid"]

    browser.post("/deconnexion/")

    assert len(relying_party.received) == 1
    logout_token = relying_party.received[0]["logout_token"][0]
    claims = claims_of(logout_token)
    assert claims["sid"] == sid
    assert claims["sub"] == str(teacher.pk)
    assert claims["aud"] == "appli-test"
    assert claims["events"] == {BACKCHANNEL_EVENT: {}}
    assert "nonce" not in claims
    header = json.loads(base64.urlsafe_b64decode(logout_token.split(".")[0] + "=="))
    assert header["typ"] == "logout+jwt"
    assert Participation.objects.get().logout_state == LogoutState.SENT
    session = SsoSession.objects.get(pk=sid)
    assert session.ended_at is not None
    # What the session issued is revoked with it.
    assert not AccessToken.objects.filter(user=teacher).exists()
    assert not RefreshToken.objects.filter(user=teacher, revoked__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_logout_is_never_blocked_by_an_unreachable_service(teacher: Any, settings: Any) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    settings.SSO_LOGOUT_ATTEMPTS = 2
    # Nothing listens on port 9 (discard) of this machine: the connection is refused.
    register_client("http://127.0.0.1:9/backchannel")
    browser, _ = sign_in_and_open_service(teacher)

    response = browser.post("/deconnexion/")

    assert response.status_code == 302
    assert "_auth_user_id" not in browser.session
    participation = Participation.objects.get()
    assert participation.logout_state == LogoutState.PENDING
    assert participation.logout_attempts == 1
    assert participation.logout_error == "ConnectionError"

    # The worker tries again later; after the last attempt it gives up and audits it.
    deliver_logouts.call(participation_ids=[participation.pk])
    participation.refresh_from_db()
    assert participation.logout_state == LogoutState.FAILED
    assert AuditEvent.objects.of_type(events.LOGOUT_FAILED).filter(subject=teacher).exists()


@pytest.mark.django_db(transaction=True)
def test_service_answering_an_error_is_retried(
    teacher: Any, relying_party: Recorder, settings: Any
) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    relying_party.status = 503
    register_client(relying_party.url)
    browser, _ = sign_in_and_open_service(teacher)
    browser.post("/deconnexion/")
    participation = Participation.objects.get()
    assert participation.logout_state == LogoutState.PENDING
    assert participation.logout_error == "HTTP 503"

    relying_party.status = 200
    deliver_logouts.call(participation_ids=[participation.pk])
    participation.refresh_from_db()
    assert participation.logout_state == LogoutState.SENT
    assert len(relying_party.received) == 2


@pytest.mark.django_db(transaction=True)
def test_suspending_an_account_ends_its_sso_and_revokes_tokens(
    teacher: Any, dsi: Any, relying_party: Recorder, settings: Any
) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    register_client(relying_party.url)
    browser, tokens = sign_in_and_open_service(teacher)

    change_account_state(acting_user=dsi, user=teacher, state=AccountState.SUSPENDED)

    assert SsoSession.objects.active().filter(user=teacher).count() == 0
    assert not AccessToken.objects.filter(user=teacher).exists()
    assert len(relying_party.received) == 1
    refresh = Client().post(
        "/oidc/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": "appli-test",
            "client_secret": SECRET,
        },
    )
    assert refresh.status_code == 400
    # The portal session stops authenticating at its next request.
    assert browser.get("/").status_code == 302


@pytest.mark.django_db
def test_signing_out_without_opening_a_service_writes_no_sso_session(teacher: Any) -> None:
    browser = Client()
    browser.post("/connexion/", {"login": teacher.login, "password": teacher.demo_password})
    browser.post("/deconnexion/")
    assert not SsoSession.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_administrator_ends_a_session_from_the_admin(
    teacher: Any, dsi: Any, relying_party: Recorder, settings: Any
) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    register_client(relying_party.url)
    sign_in_and_open_service(teacher)
    admin = Client()
    sign_in_with_totp(admin, dsi)
    session = SsoSession.objects.get()

    response = admin.post(
        "/administration/sso/ssosession/",
        {"action": "end_sessions", "_selected_action": [str(session.pk)]},
    )

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.ended_reason == "admin"
    assert len(relying_party.received) == 1


@pytest.mark.django_db(transaction=True)
def test_signing_in_again_keeps_the_sso_session_and_moves_auth_time(
    teacher: Any, relying_party: Recorder, settings: Any
) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    register_client(relying_party.url)
    browser, _ = sign_in_and_open_service(teacher)
    session = SsoSession.objects.get()
    SsoSession.objects.filter(pk=session.pk).update(
        auth_time=session.auth_time - datetime.timedelta(hours=1)
    )

    # Asked for the password again (prompt=login, max_age, CAS renew): same person.
    browser.post("/connexion/", {"login": teacher.login, "password": teacher.demo_password})
    renewed = SsoSession.objects.get()
    assert renewed.pk == session.pk and renewed.ended_at is None
    assert renewed.auth_time > session.auth_time - datetime.timedelta(hours=1)

    browser.post("/deconnexion/")
    assert len(relying_party.received) == 1
