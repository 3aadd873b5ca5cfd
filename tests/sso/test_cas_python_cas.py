"""A CAS client nobody here wrote — python-cas, protocol version 3 — against a live server.

The person signs in through the portal's real sign-in page over HTTP (``requests``); the
service's side (ticket validation, proxy-granting callback, proxy tickets) is python-cas.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cas import CASClient, CASError

from tests.sso.test_cas import (
    ARENA,
    ENT_HOME,
    ProxyCallback,
    arena_fixture,  # noqa: F401 (fixture "arena")
    callback_fixture,  # noqa: F401 (fixture "callback")
    ent_fixture,  # noqa: F401 (fixture "ent")
)

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 10


def browser_signed_in(base: str, user: Any) -> requests.Session:
    """A browser that signed in on the portal's page (CSRF token included)."""
    session = requests.Session()
    page = session.get(f"{base}/connexion/", timeout=TIMEOUT)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token is not None
    response = session.post(
        f"{base}/connexion/",
        data={
            "csrfmiddlewaretoken": token.group(1),
            "login": user.login,
            "password": user.demo_password,
        },
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 302, response.text[:500]
    return session


def cas_client(base: str, service: str, **options: Any) -> Any:
    return CASClient(version=3, server_url=f"{base}/cas/", service_url=service, **options)


def ticket_for(session: requests.Session, client: Any) -> str:
    response = session.get(client.get_login_url(), allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302, response.text[:500]
    location = response.headers["Location"]
    assert location.startswith(client.service_url)
    return parse_qs(urlsplit(location).query)["ticket"][0]


def test_python_cas_validates_a_ticket_with_attributes(
    live_server: Any, pupil: Any, ent: Any
) -> None:
    client = cas_client(live_server.url, ENT_HOME)
    ticket = ticket_for(browser_signed_in(live_server.url, pupil), client)
    user, attributes, pgtiou = client.verify_ticket(ticket)
    assert user == pupil.login
    assert pgtiou is None
    assert attributes["uid"] == pupil.login
    assert attributes["sn"] == pupil.last_name
    assert attributes["profile"] == "eleve"
    assert attributes["authnContextClass"] == "urn:convergence:acr:password"
    # Single use: python-cas sees a refusal the second time.
    assert client.verify_ticket(ticket)[0] is None


def test_python_cas_refuses_a_ticket_for_another_service(
    live_server: Any, pupil: Any, ent: Any
) -> None:
    ticket = ticket_for(
        browser_signed_in(live_server.url, pupil), cas_client(live_server.url, ENT_HOME)
    )
    other = cas_client(live_server.url, "https://ent.exemple.fr/autre")
    assert other.verify_ticket(ticket)[0] is None


def test_python_cas_login_url_with_renew_asks_for_the_password_again(
    live_server: Any, pupil: Any, ent: Any
) -> None:
    session = browser_signed_in(live_server.url, pupil)
    client = cas_client(live_server.url, ENT_HOME, renew=True)
    response = session.get(client.get_login_url(), allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/connexion/"


def test_python_cas_proxy_flow(
    live_server: Any, teacher: Any, ent: Any, arena: Any, callback: ProxyCallback
) -> None:
    proxying = cas_client(live_server.url, ENT_HOME, proxy_callback=callback.url)
    ticket = ticket_for(browser_signed_in(live_server.url, teacher), proxying)
    user, _attributes, pgtiou = proxying.verify_ticket(ticket)
    assert user == teacher.login
    assert pgtiou is not None
    pgt = callback.pgt_for(pgtiou)

    # The back-end service asks for a proxy ticket and validates it on /p3/proxyValidate.
    backend = cas_client(live_server.url, ARENA + "api/notes")
    proxy_ticket = backend.get_proxy_ticket(pgt)
    assert proxy_ticket.startswith("PT-")
    backend.url_suffix = "p3/proxyValidate"
    user, attributes, _ = backend.verify_ticket(proxy_ticket)
    assert user == teacher.login
    assert attributes["uid"] == teacher.login


def test_python_cas_proxy_ticket_refused_for_an_unknown_pgt(live_server: Any, ent: Any) -> None:
    backend = cas_client(live_server.url, ARENA)
    with pytest.raises(CASError):
        backend.get_proxy_ticket("PGT-inconnu")


def test_python_cas_logout_url_returns_to_the_service(
    live_server: Any, pupil: Any, ent: Any
) -> None:
    session = browser_signed_in(live_server.url, pupil)
    client = cas_client(live_server.url, ENT_HOME)
    response = session.get(
        client.get_logout_url(redirect_url=ENT_HOME), allow_redirects=False, timeout=TIMEOUT
    )
    assert response.status_code == 302
    assert response.headers["Location"] == ENT_HOME
    again = session.get(client.get_login_url(), allow_redirects=False, timeout=TIMEOUT)
    assert urlsplit(again.headers["Location"]).path == "/connexion/"
