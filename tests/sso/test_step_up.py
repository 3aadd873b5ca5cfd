"""Step-up: a sensitive service, or an Arena-like one reached from outside the académie's
networks, is opened only by a session that used a second factor — and the service is told so
(OIDC ``acr``/``amr``, CAS ``authnContextClass``/``authenticationMethod``).

Sophie (teacher) signs in with her password, then her "codes changeants" are enrolled (as if
from her phone, in another tab): her session has not used a factor yet, so opening a
sensitive service asks for one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.etree import ElementTree

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.test import Client
from django.urls import reverse

from convergence.audit.models import AuditEvent
from convergence.core.blueprints import apply
from convergence.mfa import events
from convergence.sso.models import Acr, SsoSession
from tests.helpers import code_for_secret, sign_in_with_totp

from .test_cas import (  # noqa: F401 (fixtures)
    callback_fixture,
    ent_fixture,
    failure_code,
    proxy_granting_ticket,
    proxy_ticket,
)
from .test_single_logout import claims_of

pytestmark = pytest.mark.django_db

SECRET = "un-secret-de-test-assez-long-pour-le-coffre"
REDIRECT_URI = "https://coffre.exemple.fr/callback"
CAS_PREFIX = "https://paie.exemple.fr/"
CAS_HOME = "https://paie.exemple.fr/accueil"
OUTSIDE = "203.0.113.7"  # TEST-NET-3: never one of the académie's networks
NS = {"cas": "http://www.yale.edu/tp/cas"}


# --- services of the story --------------------------------------------------------------------


def declare_oidc_service(slug: str, *, first_party: bool = True, **rules: bool) -> str:
    """An OIDC service open to everyone, with the given second-factor rules."""
    apply(
        {
            "services": [
                {
                    "slug": slug,
                    "name": f"Service {slug}",
                    "description": "Un service de test.",
                    "url": "https://coffre.exemple.fr/",
                    "category": "gestion",
                    "audience": "everyone",
                    **rules,
                    "oidc": {
                        "client_id": slug,
                        "client_secret": SECRET,
                        "redirect_uris": [REDIRECT_URI],
                        "first_party": first_party,
                    },
                }
            ]
        }
    )
    return slug


def declare_cas_service(**rules: bool) -> None:
    apply(
        {
            "services": [
                {
                    "slug": "paie",
                    "name": "Paie",
                    "description": "Un service CAS sensible.",
                    "url": CAS_PREFIX,
                    "category": "gestion",
                    "audience": "everyone",
                    **rules,
                    "cas": {"url_prefix": CAS_PREFIX, "first_party": True},
                }
            ]
        }
    )


@pytest.fixture
def coffre(demo: None) -> str:
    """A sensitive OIDC service: a second factor is always required."""
    return declare_oidc_service("coffre", mfa_required=True)


@pytest.fixture
def intranet(demo: None) -> str:
    """An Arena-like OIDC service: a second factor from outside the trusted networks."""
    return declare_oidc_service("intranet", mfa_outside_trusted_networks=True)


@pytest.fixture
def plain(demo: None) -> str:
    """An ordinary OIDC service."""
    return declare_oidc_service("ordinaire")


# --- the browser and the relying party ----------------------------------------------------------


def password_session(user: Any, **client_kwargs: Any) -> Client:
    browser = Client(**client_kwargs)
    response = browser.post(
        reverse("account_login"), {"login": user.login, "password": user.demo_password}
    )
    assert response.status_code == 302
    return browser


def enrol_codes(user: Any) -> str:
    """Enrol "codes changeants" with a fresh secret (allauth's own TOTP); returns the secret."""
    secret = base64.b32encode(secrets.token_bytes(20)).decode()
    TOTP.activate(user, secret)
    return secret


def authorize(browser: Client, client_id: str, **extra: str) -> tuple[Any, str]:
    """GET the authorization endpoint; returns the response and the PKCE verifier."""
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return browser.get("/oidc/authorize/?" + urlencode(params)), verifier


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def id_token_claims(client_id: str, code_response: Any, verifier: str) -> dict[str, Any]:
    assert code_response.status_code == 302, code_response.content[:300]
    assert code_response["Location"].startswith(REDIRECT_URI), code_response["Location"]
    response = Client().post(
        "/oidc/token/",
        {
            "grant_type": "authorization_code",
            "code": query_of(code_response["Location"])["code"],
            "redirect_uri": REDIRECT_URI,
            "client_id": client_id,
            "client_secret": SECRET,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.content
    claims: dict[str, Any] = claims_of(json.loads(response.content)["id_token"])
    return claims


def is_step_up(response: Any) -> bool:
    return response.status_code == 302 and urlsplit(response["Location"]).path == reverse(
        "mfa_reauthenticate"
    )


def give_code(browser: Client, step_up: Any, secret: str) -> Any:
    """Answer allauth's "confirm with your second factor" page as the browser does (the
    ``next`` address travels in a hidden field)."""
    next_url = query_of(step_up["Location"])["next"]
    return browser.post(
        reverse("mfa_reauthenticate"), {"code": code_for_secret(secret), "next": next_url}
    )


# --- OpenID Connect -------------------------------------------------------------------------------


def test_sensitive_service_sends_a_person_with_a_factor_to_step_up(
    teacher: Any, coffre: str
) -> None:
    browser = password_session(teacher)
    enrol_codes(teacher)

    response, _ = authorize(browser, coffre)

    assert is_step_up(response)
    assert query_of(response["Location"])["next"].startswith("/oidc/authorize/?")
    (event,) = AuditEvent.objects.of_type(events.MFA_STEP_UP)
    assert event.subject_id == teacher.pk
    assert event.data == {
        "service": "coffre",
        "protocol": "oidc",
        "reason": "service",
        "outcome": "asked",
    }


def test_after_a_totp_step_up_the_same_request_goes_on_and_the_id_token_says_mfa(
    teacher: Any, coffre: str
) -> None:
    browser = password_session(teacher)
    secret = enrol_codes(teacher)
    step_up, verifier = authorize(browser, coffre)

    back = give_code(browser, step_up, secret)
    assert back.status_code == 302
    assert back["Location"] == query_of(step_up["Location"])["next"]
    response = browser.get(back["Location"])

    claims = id_token_claims(coffre, response, verifier)
    assert claims["acr"] == Acr.MFA
    assert claims["amr"] == ["mfa"]
    assert SsoSession.objects.get(pk=claims["sid"]).acr == Acr.MFA


def test_a_wrong_code_does_not_open_the_service(teacher: Any, coffre: str) -> None:
    browser = password_session(teacher)
    enrol_codes(teacher)
    step_up, _ = authorize(browser, coffre)

    refused = browser.post(
        reverse("mfa_reauthenticate"),
        {"code": "000000", "next": query_of(step_up["Location"])["next"]},
    )

    assert refused.status_code == 200  # the form again, with its error
    again, _ = authorize(browser, coffre)
    assert is_step_up(again)


def test_the_sso_session_acr_is_raised_by_the_step_up(
    teacher: Any, coffre: str, plain: str
) -> None:
    browser = password_session(teacher)
    secret = enrol_codes(teacher)
    response, verifier = authorize(browser, plain)
    first = id_token_claims(plain, response, verifier)
    assert first["acr"] == Acr.PASSWORD
    assert first["amr"] == ["pwd"]

    give_code(browser, authorize(browser, coffre)[0], secret)
    response, verifier = authorize(browser, coffre)
    second = id_token_claims(coffre, response, verifier)

    assert second["sid"] == first["sid"]
    assert SsoSession.objects.get(pk=first["sid"]).acr == Acr.MFA


def test_a_person_signed_in_with_a_factor_is_not_asked_again(
    administrative_agent: Any, coffre: str
) -> None:
    # Claire (administratif) has her codes enrolled by the demo; the sign-in asked for one.
    browser = Client()
    sign_in_with_totp(browser, administrative_agent)

    response, verifier = authorize(browser, coffre)

    assert id_token_claims(coffre, response, verifier)["acr"] == Acr.MFA
    assert not AuditEvent.objects.of_type(events.MFA_STEP_UP).exists()


def test_a_person_without_a_factor_is_told_to_enrol_one(teacher: Any, coffre: str) -> None:
    browser = password_session(teacher)

    response, _ = authorize(browser, coffre)

    assert response.status_code == 403
    page = response.content.decode()
    assert "second facteur" in page
    assert f'href="{reverse("account_security")}"' in page
    (event,) = AuditEvent.objects.of_type(events.MFA_STEP_UP)
    assert event.data["outcome"] == "no_factor"


def test_a_silent_request_needing_a_factor_answers_interaction_required(
    teacher: Any, coffre: str
) -> None:
    browser = password_session(teacher)
    enrol_codes(teacher)

    response, _ = authorize(browser, coffre, prompt="none")

    assert response.status_code == 302
    assert response["Location"].startswith(REDIRECT_URI)
    assert query_of(response["Location"])["error"] == "interaction_required"


def test_an_ordinary_service_opens_with_the_password(teacher: Any, plain: str) -> None:
    browser = password_session(teacher)
    enrol_codes(teacher)

    response, verifier = authorize(browser, plain)

    assert id_token_claims(plain, response, verifier)["acr"] == Acr.PASSWORD


def test_acr_values_asking_mfa_steps_up_a_person_with_a_factor(teacher: Any, plain: str) -> None:
    browser = password_session(teacher)
    secret = enrol_codes(teacher)

    step_up, _ = authorize(browser, plain, acr_values=Acr.MFA)
    assert is_step_up(step_up)
    give_code(browser, step_up, secret)
    response, verifier = authorize(browser, plain, acr_values=Acr.MFA)

    assert id_token_claims(plain, response, verifier)["acr"] == Acr.MFA
    (event,) = AuditEvent.objects.of_type(events.MFA_STEP_UP)
    assert event.data["reason"] == "acr_values"


def test_acr_values_asking_mfa_of_a_person_without_factor_answers_password(
    teacher: Any, plain: str
) -> None:
    # acr_values is a wish of the client, not a rule of the académie: the truth is answered.
    browser = password_session(teacher)

    response, verifier = authorize(browser, plain, acr_values=Acr.MFA)

    assert id_token_claims(plain, response, verifier)["acr"] == Acr.PASSWORD


def test_a_consent_posted_without_the_step_up_asks_for_the_factor(teacher: Any, demo: None) -> None:
    client_id = declare_oidc_service("editeur", first_party=False, mfa_required=True)
    browser = password_session(teacher)
    enrol_codes(teacher)

    response = browser.post(
        "/oidc/authorize/",
        {
            "allow": "Autoriser",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "openid profile",
            "state": "s",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
    )

    assert is_step_up(response)
    back_to = query_of(response["Location"])["next"]
    assert back_to.startswith("/oidc/authorize/?")
    assert query_of(back_to)["client_id"] == client_id


# --- network: Arena-like services -------------------------------------------------------


def test_arena_like_service_from_outside_the_academie_asks_for_a_factor(
    teacher: Any, intranet: str
) -> None:
    browser = password_session(teacher, REMOTE_ADDR=OUTSIDE)
    enrol_codes(teacher)

    response, _ = authorize(browser, intranet)

    assert is_step_up(response)
    (event,) = AuditEvent.objects.of_type(events.MFA_STEP_UP)
    assert event.data["reason"] == "network"


def test_arena_like_service_inside_the_academie_opens_with_the_password(
    teacher: Any, intranet: str
) -> None:
    # The demo académie trusts 127.0.0.0/8, the test client's address.
    browser = password_session(teacher, REMOTE_ADDR="127.0.0.1")
    enrol_codes(teacher)

    response, verifier = authorize(browser, intranet)

    assert id_token_claims(intranet, response, verifier)["acr"] == Acr.PASSWORD


def test_outside_without_a_factor_the_page_names_the_network(teacher: Any, intranet: str) -> None:
    browser = password_session(teacher, REMOTE_ADDR=OUTSIDE)

    response, _ = authorize(browser, intranet)

    assert response.status_code == 403
    assert "extérieur du réseau" in response.content.decode()


def test_demo_arena_asks_for_a_factor_only_from_outside(demo: None) -> None:
    from convergence.portal.models import Service

    arena = Service.objects.get(slug="arena")
    assert arena.mfa_outside_trusted_networks
    assert not arena.mfa_required
    assert Service.objects.get(slug="opale").mfa_required


# --- CAS ------------------------------------------------------------------------------------------


def cas_login(browser: Client) -> Any:
    return browser.get("/cas/login?" + urlencode({"service": CAS_HOME}))


def p3_attributes(ticket: str) -> dict[str, list[str]]:
    response = Client().get("/cas/p3/serviceValidate", {"ticket": ticket, "service": CAS_HOME})
    # The portal's own answer, read back by the test: not untrusted input.
    root = ElementTree.fromstring(response.content)  # noqa: S314
    found: dict[str, list[str]] = {}
    for element in root.iterfind("cas:authenticationSuccess/cas:attributes/*", NS):
        found.setdefault(element.tag.split("}")[1], []).append(element.text or "")
    return found


def ticket_of(response: Any) -> str:
    assert response.status_code == 302, response.content[:300]
    return query_of(response["Location"])["ticket"]


def test_cas_sensitive_service_steps_up_and_attributes_say_mfa(teacher: Any, demo: None) -> None:
    declare_cas_service(mfa_required=True)
    browser = password_session(teacher)
    secret = enrol_codes(teacher)

    step_up = cas_login(browser)
    assert is_step_up(step_up)
    back = give_code(browser, step_up, secret)
    attributes = p3_attributes(ticket_of(browser.get(back["Location"])))

    assert attributes["authnContextClass"] == [Acr.MFA]
    assert attributes["authenticationMethod"] == ["mfa"]


def test_cas_ordinary_service_attributes_say_password(teacher: Any, demo: None) -> None:
    declare_cas_service()
    browser = password_session(teacher)

    attributes = p3_attributes(ticket_of(cas_login(browser)))

    assert attributes["authnContextClass"] == [Acr.PASSWORD]
    assert attributes["authenticationMethod"] == ["password"]


def test_cas_gateway_needing_a_factor_returns_without_ticket(teacher: Any, demo: None) -> None:
    declare_cas_service(mfa_required=True)
    browser = password_session(teacher)
    enrol_codes(teacher)

    response = browser.get("/cas/login?" + urlencode({"service": CAS_HOME, "gateway": "true"}))

    assert response.status_code == 302
    assert response["Location"] == CAS_HOME


def test_cas_person_without_factor_gets_the_enrol_page(teacher: Any, demo: None) -> None:
    declare_cas_service(mfa_required=True)

    response = cas_login(password_session(teacher))

    assert response.status_code == 403
    assert f'href="{reverse("account_security")}"' in response.content.decode()


def test_a_security_key_only_person_steps_up_with_the_key(teacher: Any, coffre: str) -> None:
    browser = password_session(teacher)
    Authenticator.objects.create(user=teacher, type=Authenticator.Type.WEBAUTHN, data={})

    response, _ = authorize(browser, coffre)

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("mfa_reauthenticate_webauthn")


def test_proxy_ticket_for_a_sensitive_service_needs_an_mfa_session(
    teacher: Any, ent: Any, callback: Any
) -> None:
    # The proxying server cannot ask the person for a factor: its session must have used one.
    declare_cas_service(mfa_required=True)
    pgt = proxy_granting_ticket(teacher, callback)
    assert failure_code(proxy_ticket(pgt, CAS_HOME)) == "UNAUTHORIZED_SERVICE"

    SsoSession.objects.filter(user=teacher).update(acr=Acr.MFA)

    answer = proxy_ticket(pgt, CAS_HOME)
    assert answer.findtext("cas:proxySuccess/cas:proxyTicket", namespaces=NS)
