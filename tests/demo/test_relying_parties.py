"""The demo services of ``make run`` against a live portal: Arena signs in with OpenID Connect
and is signed out by the portal's back-channel logout; the ENT signs in with CAS and is signed
out by the portal's single-logout request.

Both services run for real, in threads on free ports, pointed at pytest-django's live server,
and are declared to the portal the way the demo blueprint declares them (with their ports).
A ``requests`` session plays the browser.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from django.conf import settings
from jwcrypto import jwk, jwt

from convergence.core.blueprints import apply
from convergence.sso.logout import cas_logout_request, signing_key
from convergence.sso.models import LogoutState, Participation, Protocol
from demo.arena import BACKCHANNEL_EVENT, ArenaApp
from demo.ent import EntApp
from demo.web import DemoApp, bind_demo_server
from tests.conftest import demo_blueprint, stop_serving

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
TIMEOUT = 10
SIGNED_OUT = "Se connecter avec le portail"


@dataclass
class DemoServices:
    ent: EntApp
    arena: ArenaApp
    ent_url: str
    arena_url: str


def _demo_service(slug: str) -> dict[str, Any]:
    services: list[dict[str, Any]] = demo_blueprint()["services"]
    return dict(next(item for item in services if item["slug"] == slug))


def declare(ent_url: str, arena_url: str) -> None:
    """The demo blueprint's ENT and Arena, at the ports the test servers got."""
    ent = _demo_service("ent")
    ent["url"] = f"{ent_url}/connexion"
    ent["cas"] = {**ent["cas"], "url_prefix": f"{ent_url}/"}
    arena = _demo_service("arena")
    arena["url"] = f"{arena_url}/connexion"
    arena["oidc"] = {
        **arena["oidc"],
        "redirect_uris": [f"{arena_url}/oidc/callback"],
        "post_logout_redirect_uris": [f"{arena_url}/"],
        "backchannel_logout_uri": f"{arena_url}/backchannel-logout",
    }
    apply({"services": [ent, arena]})


@contextmanager
def _serving(build: Any) -> Iterator[tuple[DemoApp, str]]:
    server = bind_demo_server("127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_port}"
    app = build(url)
    server.set_app(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, url
    finally:
        stop_serving(server, thread)
        # Its pooled connections would keep live-server threads (and their database
        # connections) open after the test.
        app.close()


@contextmanager
def running_demo_services(portal_url: str) -> Iterator[DemoServices]:
    """Start the ENT and Arena on free ports and declare them to the portal."""
    blueprint_arena = _demo_service("arena")["oidc"]
    with (
        _serving(lambda url: EntApp(base_url=url, portal_url=portal_url)) as (ent, ent_url),
        _serving(
            lambda url: ArenaApp(
                base_url=url,
                portal_url=portal_url,
                client_id=blueprint_arena["client_id"],
                client_secret=blueprint_arena["client_secret"],
            )
        ) as (arena, arena_url),
    ):
        assert isinstance(ent, EntApp)
        assert isinstance(arena, ArenaApp)
        declare(ent_url, arena_url)
        yield DemoServices(ent=ent, arena=arena, ent_url=ent_url, arena_url=arena_url)


@pytest.fixture
def services(live_server: Any, demo: None, settings: Any) -> Iterator[DemoServices]:
    settings.TASKS = IMMEDIATE_TASKS
    with running_demo_services(live_server.url) as running:
        yield running


# --- the browser ----------------------------------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token(browser: requests.Session, url: str) -> str:
    response = browser.get(url, timeout=TIMEOUT)
    match = CSRF_FIELD.search(response.text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


@pytest.fixture
def browser() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def portal_sign_in(browser: requests.Session, portal_url: str, user: Any) -> None:
    token = csrf_token(browser, f"{portal_url}/connexion/")
    response = browser.post(
        f"{portal_url}/connexion/",
        data={"login": user.login, "password": user.demo_password, "csrfmiddlewaretoken": token},
        timeout=TIMEOUT,
    )
    assert response.url == f"{portal_url}/", "the demo person could not sign in"


def portal_sign_out(portal_url: str, browser: requests.Session) -> None:
    token = csrf_token(browser, f"{portal_url}/")
    browser.post(f"{portal_url}/deconnexion/", data={"csrfmiddlewaretoken": token}, timeout=TIMEOUT)


def service_csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "no logout form on the page"
    return match.group(1)


# --- Arena (OpenID Connect) -----------------------------------------------------------------


def test_arena_signs_the_teacher_in_through_the_portal(
    services: DemoServices, live_server: Any, teacher: Any, browser: requests.Session
) -> None:
    portal_sign_in(browser, live_server.url, teacher)

    page = browser.get(f"{services.arena_url}/connexion", timeout=TIMEOUT)

    assert page.url == f"{services.arena_url}/"
    assert "Sophie Bernard" in page.text
    assert "sbernard" in page.text
    assert "enseignant" in page.text
    assert "0250013D" in page.text
    assert "Se déconnecter" in page.text
    # The redirect went through the portal's authorization endpoint, without a consent page.
    assert any("/oidc/authorize/" in step.url for step in page.history)


def test_portal_logout_signs_arena_out_by_back_channel(
    services: DemoServices, live_server: Any, teacher: Any, browser: requests.Session
) -> None:
    portal_sign_in(browser, live_server.url, teacher)
    browser.get(f"{services.arena_url}/connexion", timeout=TIMEOUT)

    portal_sign_out(live_server.url, browser)

    participation = Participation.objects.get(protocol=Protocol.OIDC)
    assert participation.logout_state == LogoutState.SENT
    page = browser.get(f"{services.arena_url}/", timeout=TIMEOUT)
    assert SIGNED_OUT in page.text
    assert "Sophie Bernard" not in page.text


def test_arena_logout_ends_the_portal_session_too(
    services: DemoServices, live_server: Any, teacher: Any, browser: requests.Session
) -> None:
    portal_sign_in(browser, live_server.url, teacher)
    page = browser.get(f"{services.arena_url}/connexion", timeout=TIMEOUT)

    page = browser.post(
        f"{services.arena_url}/deconnexion",
        data={"csrf": service_csrf(page.text)},
        timeout=TIMEOUT,
    )

    # Through the portal's end-session endpoint and back to the registered address.
    assert any("/oidc/logout/" in step.url for step in page.history)
    assert page.url == f"{services.arena_url}/"
    assert SIGNED_OUT in page.text
    dashboard = browser.get(f"{live_server.url}/", timeout=TIMEOUT)
    assert "/connexion/" in dashboard.url


def test_arena_keeps_its_session_when_the_logout_token_is_not_the_portals(
    services: DemoServices, live_server: Any, teacher: Any, browser: requests.Session
) -> None:
    portal_sign_in(browser, live_server.url, teacher)
    browser.get(f"{services.arena_url}/connexion", timeout=TIMEOUT)
    (session,) = services.arena.sessions.find("sub", str(teacher.pk))
    sid = session.data["sid"]
    issuer = services.arena.metadata()["issuer"]
    stranger = jwk.JWK.generate(kty="RSA", size=2048)
    claims = {
        "iss": issuer,
        "aud": services.arena.client_id,
        "jti": "un-jeton",
        "sid": sid,
        "events": {BACKCHANNEL_EVENT: {}},
    }

    forged = logout_token_signed_by(stranger, claims)
    wrong_audience = logout_token_signed_by(signing_key(), {**claims, "aud": "un-autre-client"})

    for token in (forged, wrong_audience, "pas-un-jeton"):
        answer = requests.post(
            f"{services.arena_url}/backchannel-logout",
            data={"logout_token": token},
            timeout=TIMEOUT,
        )
        assert answer.status_code == 400
        assert answer.json() == {"error": "invalid_request"}
    assert "Sophie Bernard" in browser.get(f"{services.arena_url}/", timeout=TIMEOUT).text


def logout_token_signed_by(key: jwk.JWK, claims: dict[str, Any]) -> str:
    now = int(time.time())
    token = jwt.JWT(
        header={"alg": "RS256", "typ": "logout+jwt", "kid": key.thumbprint()},
        claims={"iat": now, "exp": now + 60, **claims},
    )
    token.make_signed_token(key)
    return str(token.serialize())


# --- ENT (CAS 3.0) ---------------------------------------------------------------------------


def test_ent_signs_the_teacher_in_through_the_portal(
    services: DemoServices, live_server: Any, teacher: Any, browser: requests.Session
) -> None:
    portal_sign_in(browser, live_server.url, teacher)

    page = browser.get(f"{services.ent_url}/connexion", timeout=TIMEOUT)

    assert page.url == f"{services.ent_url}/"
    assert "Sophie Bernard" in page.text
    assert "sbernard" in page.text
    assert "0251080N" in page.text
    assert any("/cas/login" in step.url for step in page.history)


def test_portal_logout_signs_the_ent_out_by_single_logout(
    services: DemoServices, live_server: Any, teacher: Any, browser: requests.Session
) -> None:
    portal_sign_in(browser, live_server.url, teacher)
    browser.get(f"{services.ent_url}/connexion", timeout=TIMEOUT)

    portal_sign_out(live_server.url, browser)

    participation = Participation.objects.get(protocol=Protocol.CAS)
    assert participation.logout_state == LogoutState.SENT
    assert SIGNED_OUT in browser.get(f"{services.ent_url}/", timeout=TIMEOUT).text


def test_ent_ends_the_session_named_by_a_logout_request(services: DemoServices) -> None:
    # The SAML message is the portal's own (what its logout task sends).
    ended = services.ent.sessions.create(
        login="sbernard", attributes={}, ticket="ST-ended", csrf="a"
    )
    kept = services.ent.sessions.create(login="lmartin", attributes={}, ticket="ST-kept", csrf="b")

    answer = requests.post(
        f"{services.ent_url}/",
        data={"logoutRequest": cas_logout_request("ST-ended")},
        timeout=TIMEOUT,
    )

    assert answer.status_code == 200
    assert ended.key not in services.ent.sessions
    assert kept.key in services.ent.sessions


def test_ent_refuses_a_malformed_logout_request(services: DemoServices) -> None:
    answer = requests.post(
        f"{services.ent_url}/", data={"logoutRequest": "<pas du xml"}, timeout=TIMEOUT
    )
    assert answer.status_code == 400


def test_ent_escapes_what_the_portal_says_about_the_person(services: DemoServices) -> None:
    session = services.ent.sessions.create(
        login="sbernard",
        attributes={"displayName": "<script>alert(1)</script>", "profile": ["enseignant"]},
        ticket="ST-x",
        csrf="c",
    )
    page = requests.get(
        f"{services.ent_url}/",
        cookies={services.ent.sessions.cookie_name: session.key},
        timeout=TIMEOUT,
    )
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_demo_services_use_distinct_cookies(services: DemoServices) -> None:
    # Browsers share cookies between ports of 127.0.0.1 (the portal's included).
    names = {services.ent.sessions.cookie_name, services.arena.sessions.cookie_name}
    assert len(names) == 2
    assert settings.SESSION_COOKIE_NAME not in names
