"""CAS 3.0 server: /cas/login in the browser, ticket validation and proxying as the services'
servers call them, /cas/logout — and every way a ticket is refused.

Services are declared the way an académie does it, with a ``cas:`` block on a tile of the
catalogue. The proxy callback is a real HTTP server on 127.0.0.1 (a thread of this process).
"""

from __future__ import annotations

import datetime
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.etree import ElementTree

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from convergence.accounts.models import AccountState, User
from convergence.audit.models import AuditEvent
from convergence.core.blueprints import apply
from convergence.portal.models import Service
from convergence.sso import events
from convergence.sso.models import (
    CasTicket,
    Consent,
    Participation,
    SsoSession,
    TicketKind,
    digest,
)
from tests.conftest import stop_serving

NS = {"cas": "http://www.yale.edu/tp/cas"}
ENT = "https://ent.exemple.fr/"
ENT_HOME = "https://ent.exemple.fr/accueil"
ARENA = "https://arena.exemple.fr/"
QUIZ = "https://quiz.exemple.com/cas"


# --- the services' side ------------------------------------------------------------------


class ProxyCallback(ThreadingHTTPServer):
    """A service's server: records the PGTs its proxy callback is given (GET) and the
    single-logout requests it receives (POST); answers ``status``."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _CallbackHandler)
        self.status = 200
        self.received: list[dict[str, str]] = []
        self.posted: list[dict[str, str]] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    @property
    def url(self) -> str:
        return self.base + "pgt/recevoir"

    def pgt_for(self, iou: str) -> str:
        return next(item["pgtId"] for item in self.received if item.get("pgtIou") == iou)


class _CallbackHandler(BaseHTTPRequestHandler):
    server: ProxyCallback

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        self.server.received.append({key: values[0] for key, values in query.items()})
        self.send_response(self.server.status)
        self.end_headers()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        form = parse_qs(self.rfile.read(length).decode())
        self.server.posted.append({key: values[0] for key, values in form.items()})
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(name="callback")
def callback_fixture() -> Iterator[ProxyCallback]:
    server = ProxyCallback()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    stop_serving(server, thread)


def declare_cas_service(slug: str, *, audience: Any = "everyone", **cas: Any) -> Service:
    apply(
        {
            "services": [
                {
                    "slug": slug,
                    "name": f"Service {slug}",
                    "description": "Un service de test.",
                    "url": cas["url_prefix"],
                    "category": "pedagogie",
                    "audience": audience,
                    "cas": cas,
                }
            ]
        }
    )
    return Service.objects.get(slug=slug)


@pytest.fixture(name="ent")
def ent_fixture(demo: None, callback: ProxyCallback) -> Service:
    """An ENT for pupils and teachers, allowed to proxy through its callback."""
    return declare_cas_service(
        "ent-cas",
        audience=[{"roles": ["eleve", "enseignant"]}],
        url_prefix=ENT,
        proxy_callback_prefix=callback.base + "pgt",
    )


@pytest.fixture(name="arena")
def arena_fixture(demo: None) -> Service:
    """A staff intranet: pupils are outside its audience; no proxying."""
    return declare_cas_service(
        "arena-cas", audience=[{"roles": ["enseignant", "dsi"]}], url_prefix=ARENA
    )


@pytest.fixture(name="quiz")
def quiz_fixture(demo: None) -> Service:
    """A publisher's service open to everyone: third party, so consent is asked."""
    return declare_cas_service("quiz-cas", url_prefix=QUIZ, first_party=False)


# --- the browser's and the server's side -------------------------------------------------


def signed_in(user: Any) -> Client:
    browser = Client()
    response = browser.post("/connexion/", {"login": user.login, "password": user.demo_password})
    assert response.status_code == 302, "the demo person could not sign in"
    return browser


def login_url(service: str, **params: str) -> str:
    return "/cas/login?" + urlencode({"service": service, **params})


def ticket_from(response: Any) -> str:
    assert response.status_code == 302, response.content[:400]
    return parse_qs(urlsplit(response["Location"]).query)["ticket"][0]


def obtain_ticket(browser: Client, service: str = ENT_HOME, **params: str) -> str:
    return ticket_from(browser.get(login_url(service, **params)))


def parse(content: bytes) -> ElementTree.Element:
    # The portal's own answer, read back by the test: not untrusted input.
    return ElementTree.fromstring(content)  # noqa: S314


def validate(path: str, **params: str) -> ElementTree.Element:
    response = Client().get(f"/cas/{path}", params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    return parse(response.content)


def failure_code(root: ElementTree.Element) -> str | None:
    failure = root.find("cas:authenticationFailure", NS)
    if failure is None:
        failure = root.find("cas:proxyFailure", NS)
    return None if failure is None else failure.get("code")


def user_of(root: ElementTree.Element) -> str | None:
    return root.findtext("cas:authenticationSuccess/cas:user", namespaces=NS)


def attributes_of(root: ElementTree.Element) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for element in root.iterfind("cas:authenticationSuccess/cas:attributes/*", NS):
        found.setdefault(element.tag.split("}")[1], []).append(element.text or "")
    return found


# --- /cas/login ----------------------------------------------------------------------------


def test_unregistered_service_gets_a_french_page(pupil: Any, ent: Service) -> None:
    response = signed_in(pupil).get(login_url("https://inconnu.exemple.fr/"))
    assert response.status_code == 400
    assert "Service non déclaré" in response.content.decode()
    assert not CasTicket.objects.exists()


def test_service_prefix_must_end_at_a_path_segment(pupil: Any, ent: Service) -> None:
    response = signed_in(pupil).get(login_url("https://ent.exemple.fr.pirate.com/"))
    assert response.status_code == 400


def test_unpublished_service_is_not_declared(pupil: Any, ent: Service) -> None:
    Service.objects.filter(pk=ent.pk).update(is_published=False)
    response = signed_in(pupil).get(login_url(ENT_HOME))
    assert response.status_code == 400


def test_anonymous_person_is_sent_to_the_portal_sign_in(ent: Service) -> None:
    response = Client().get(login_url(ENT_HOME))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/connexion/"
    assert parse_qs(location.query)["next"] == [login_url(ENT_HOME)]


def test_gateway_without_session_returns_to_service_without_ticket(ent: Service) -> None:
    response = Client().get(login_url(ENT_HOME, gateway="true"))
    assert response.status_code == 302
    assert response["Location"] == ENT_HOME


def test_gateway_with_session_issues_a_ticket(pupil: Any, ent: Service) -> None:
    ticket = obtain_ticket(signed_in(pupil), gateway="true")
    assert ticket.startswith("ST-")


def test_signed_in_without_service_sees_that_they_are_connected(pupil: Any) -> None:
    response = signed_in(pupil).get("/cas/login")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Vous êtes connecté" in content
    assert 'href="/"' in content


def test_ticket_is_appended_to_the_service_query(pupil: Any, ent: Service) -> None:
    service = "https://ent.exemple.fr/cours?classe=4e%20B&x=1"
    response = signed_in(pupil).get(login_url(service))
    location = response["Location"]
    assert location.startswith(service + "&ticket=ST-")
    assert parse_qs(urlsplit(location).query)["classe"] == ["4e B"]


def test_ticket_is_unguessable_and_stored_only_as_digest(pupil: Any, ent: Service) -> None:
    ticket = obtain_ticket(signed_in(pupil))
    assert len(ticket) - len("ST-") >= 32
    stored = CasTicket.objects.get()
    assert stored.ticket_digest == digest(ticket)
    assert ticket not in stored.ticket_digest
    assert stored.expires - stored.created <= datetime.timedelta(seconds=10)


def test_ticket_records_participation_for_single_logout(pupil: Any, ent: Service) -> None:
    ticket = obtain_ticket(signed_in(pupil))
    participation = Participation.objects.get()
    assert participation.cas_ticket == ticket
    assert participation.cas_service_url == ENT_HOME
    assert participation.sso_session.user == pupil


def test_person_outside_audience_is_refused(pupil: Any, arena: Service) -> None:
    response = signed_in(pupil).get(login_url(ARENA))
    assert response.status_code == 403
    assert "Accès au service refusé" in response.content.decode()
    assert not CasTicket.objects.exists()
    assert AuditEvent.objects.filter(event_type=events.SERVICE_REFUSED.code).exists()


def test_third_party_service_asks_consent_first(pupil: Any, quiz: Service) -> None:
    browser = signed_in(pupil)
    page = browser.get(login_url(QUIZ))
    assert page.status_code == 200
    assert "Autoriser" in page.content.decode()
    assert not CasTicket.objects.exists()
    ticket = ticket_from(browser.post(login_url(QUIZ), {"decision": "allow"}))
    assert Consent.objects.filter(user=pupil, service=quiz).exists()
    assert user_of(validate("serviceValidate", ticket=ticket, service=QUIZ)) == pupil.login
    # Asked once: the next sign-in goes straight through.
    assert obtain_ticket(browser, QUIZ).startswith("ST-")


def test_refused_consent_issues_no_ticket(pupil: Any, quiz: Service) -> None:
    response = signed_in(pupil).post(login_url(QUIZ), {"decision": "deny"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not CasTicket.objects.exists()


# --- renew ---------------------------------------------------------------------------------


def test_renew_with_sso_session_forces_a_new_sign_in(pupil: Any, ent: Service) -> None:
    browser = signed_in(pupil)
    response = browser.get(login_url(ENT_HOME, renew="true"))
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/connexion/"
    assert not CasTicket.objects.exists()


def test_renew_is_satisfied_by_the_password_asked_for(pupil: Any, ent: Service) -> None:
    browser = signed_in(pupil)
    browser.get(login_url(ENT_HOME, renew="true"))
    browser.post("/connexion/", {"login": pupil.login, "password": pupil.demo_password})
    ticket = obtain_ticket(browser, renew="true")
    root = validate("p3/serviceValidate", ticket=ticket, service=ENT_HOME, renew="true")
    assert user_of(root) == pupil.login
    assert attributes_of(root)["isFromNewLogin"] == ["true"]


def test_renew_validation_refuses_a_ticket_from_the_sso_session(pupil: Any, ent: Service) -> None:
    browser = signed_in(pupil)
    ticket = obtain_ticket(browser)
    root = validate("serviceValidate", ticket=ticket, service=ENT_HOME, renew="true")
    assert failure_code(root) == "INVALID_TICKET_SPEC"


def test_first_ticket_after_the_sign_in_asked_is_from_new_login(pupil: Any, ent: Service) -> None:
    browser = Client()
    browser.get(login_url(ENT_HOME))
    browser.post("/connexion/", {"login": pupil.login, "password": pupil.demo_password})
    first = obtain_ticket(browser)
    second = obtain_ticket(browser)
    flags = dict(CasTicket.objects.values_list("ticket_digest", "from_new_login"))
    assert flags == {digest(first): True, digest(second): False}


# --- validation ----------------------------------------------------------------------------


def test_service_ticket_validates_once(pupil: Any, ent: Service) -> None:
    ticket = obtain_ticket(signed_in(pupil))
    assert user_of(validate("serviceValidate", ticket=ticket, service=ENT_HOME)) == pupil.login
    again = validate("serviceValidate", ticket=ticket, service=ENT_HOME)
    assert failure_code(again) == "INVALID_TICKET"


def test_ticket_for_another_service_is_refused_and_burned(pupil: Any, ent: Service) -> None:
    ticket = obtain_ticket(signed_in(pupil))
    other = validate("serviceValidate", ticket=ticket, service="https://ent.exemple.fr/autre")
    assert failure_code(other) == "INVALID_SERVICE"
    right = validate("serviceValidate", ticket=ticket, service=ENT_HOME)
    assert failure_code(right) == "INVALID_TICKET"


def test_service_url_is_compared_exactly(pupil: Any, ent: Service) -> None:
    ticket = obtain_ticket(signed_in(pupil))
    root = validate("serviceValidate", ticket=ticket, service="https://ENT.exemple.fr/accueil")
    assert failure_code(root) == "INVALID_SERVICE"


def test_expired_ticket_is_refused(pupil: Any, ent: Service) -> None:
    ticket = obtain_ticket(signed_in(pupil))
    past = timezone.now() - datetime.timedelta(seconds=11)
    CasTicket.objects.update(created=past, expires=past + datetime.timedelta(seconds=10))
    root = validate("serviceValidate", ticket=ticket, service=ENT_HOME)
    assert failure_code(root) == "INVALID_TICKET"


def test_unknown_ticket_is_refused(ent: Service) -> None:
    root = validate("serviceValidate", ticket="ST-inventé", service=ENT_HOME)
    assert failure_code(root) == "INVALID_TICKET"


def test_every_reuse_of_a_used_ticket_is_audited_with_its_owner(pupil: Any, ent: Service) -> None:
    ticket = obtain_ticket(signed_in(pupil))
    validate("serviceValidate", ticket=ticket, service=ENT_HOME)
    for _ in range(3):
        assert failure_code(validate("serviceValidate", ticket=ticket, service=ENT_HOME)) == (
            "INVALID_TICKET"
        )
    events_seen = AuditEvent.objects.filter(event_type=events.TICKET_REJECTED.code)
    assert events_seen.count() == 3
    assert {event.subject_id for event in events_seen} == {pupil.pk}


def test_unknown_tickets_are_audited_once_a_minute_per_address(ent: Service) -> None:
    for guess in range(5):
        root = validate("serviceValidate", ticket=f"ST-devine-{guess}", service=ENT_HOME)
        assert failure_code(root) == "INVALID_TICKET"
    assert AuditEvent.objects.filter(event_type=events.TICKET_REJECTED.code).count() == 1


@pytest.mark.parametrize("params", [{"ticket": "ST-x"}, {"service": ENT_HOME}, {}])
def test_missing_parameters_are_an_invalid_request(db: None, params: dict[str, str]) -> None:
    assert failure_code(validate("serviceValidate", **params)) == "INVALID_REQUEST"


def test_unsupported_format_is_refused_and_burns_the_ticket(pupil: Any, ent: Service) -> None:
    ticket = obtain_ticket(signed_in(pupil))
    root = validate("serviceValidate", ticket=ticket, service=ENT_HOME, format="YAML")
    assert failure_code(root) == "INVALID_REQUEST"
    again = validate("serviceValidate", ticket=ticket, service=ENT_HOME)
    assert failure_code(again) == "INVALID_TICKET"


def test_refused_ticket_is_audited_without_the_ticket(pupil: Any, ent: Service) -> None:
    ticket = obtain_ticket(signed_in(pupil))
    validate("serviceValidate", ticket=ticket, service="https://ent.exemple.fr/autre")
    event = AuditEvent.objects.get(event_type=events.TICKET_REJECTED.code)
    assert event.subject == pupil
    assert event.data["error"] == "INVALID_SERVICE"
    assert ticket not in json.dumps(event.data)
    assert ticket[3:] not in json.dumps(event.data)


def test_service_validate_releases_no_attributes(pupil: Any, ent: Service) -> None:
    ticket = obtain_ticket(signed_in(pupil))
    root = validate("serviceValidate", ticket=ticket, service=ENT_HOME)
    assert root.find("cas:authenticationSuccess/cas:attributes", NS) is None


def test_p3_releases_the_person_and_the_authentication(pupil: Any, ent: Service) -> None:
    ticket = obtain_ticket(signed_in(pupil))
    attributes = attributes_of(validate("p3/serviceValidate", ticket=ticket, service=ENT_HOME))
    assert attributes["uid"] == [pupil.login]
    assert attributes["givenName"] == [pupil.first_name]
    assert attributes["sn"] == [pupil.last_name]
    assert attributes["profile"] == ["eleve"]
    assert len(attributes["uai"]) == 1
    assert attributes["authnContextClass"] == ["urn:convergence:acr:password"]
    assert attributes["isFromNewLogin"] == ["false"]
    assert attributes["longTermAuthenticationRequestTokenUsed"] == ["false"]
    auth_time = SsoSession.objects.get().auth_time
    when = datetime.datetime.fromisoformat(attributes["authenticationDate"][0])
    assert abs(when - auth_time) < datetime.timedelta(seconds=1)


def test_multi_valued_attributes_repeat_the_element(teacher: Any, ent: Service) -> None:
    ticket = obtain_ticket(signed_in(teacher))
    attributes = attributes_of(validate("p3/serviceValidate", ticket=ticket, service=ENT_HOME))
    assert len(attributes["uai"]) == 2


def test_values_are_escaped_in_xml(pupil: Any, ent: Service) -> None:
    User.objects.filter(pk=pupil.pk).update(last_name="<b>O'Brien & Fils</b>]]>")
    ticket = obtain_ticket(signed_in(pupil))
    response = Client().get("/cas/p3/serviceValidate", {"ticket": ticket, "service": ENT_HOME})
    assert b"<b>" not in response.content
    attributes = attributes_of(parse(response.content))
    assert attributes["sn"] == ["<b>O'Brien & Fils</b>]]>"]


def test_json_format_follows_the_specification(pupil: Any, ent: Service) -> None:
    ticket = obtain_ticket(signed_in(pupil))
    response = Client().get(
        "/cas/p3/serviceValidate", {"ticket": ticket, "service": ENT_HOME, "format": "JSON"}
    )
    assert response["Content-Type"].startswith("application/json")
    success = response.json()["serviceResponse"]["authenticationSuccess"]
    assert success["user"] == pupil.login
    assert success["attributes"]["profile"] == ["eleve"]
    assert success["attributes"]["uid"] == pupil.login


def test_json_failure_has_code_and_description(ent: Service) -> None:
    response = Client().get(
        "/cas/serviceValidate", {"ticket": "ST-x", "service": ENT_HOME, "format": "JSON"}
    )
    failure = response.json()["serviceResponse"]["authenticationFailure"]
    assert failure["code"] == "INVALID_TICKET"
    assert failure["description"]


def test_validation_answers_are_not_cached(pupil: Any, ent: Service) -> None:
    response = Client().get("/cas/serviceValidate", {"ticket": "ST-x", "service": ENT_HOME})
    assert "no-store" in response["Cache-Control"]


def test_ticket_of_a_suspended_account_is_refused(pupil: Any, ent: Service) -> None:
    ticket = obtain_ticket(signed_in(pupil))
    # Written directly: the suspension action would burn the ticket before this check.
    User.objects.filter(pk=pupil.pk).update(state=AccountState.SUSPENDED)
    root = validate("serviceValidate", ticket=ticket, service=ENT_HOME)
    assert failure_code(root) == "INVALID_TICKET"


# --- proxying ----------------------------------------------------------------------------


def proxy_granting_ticket(user: Any, callback: ProxyCallback) -> str:
    ticket = obtain_ticket(signed_in(user))
    root = validate("serviceValidate", ticket=ticket, service=ENT_HOME, pgtUrl=callback.url)
    iou = root.findtext("cas:authenticationSuccess/cas:proxyGrantingTicket", namespaces=NS)
    assert iou is not None
    assert iou.startswith("PGTIOU-")
    return callback.pgt_for(iou)


def proxy_ticket(pgt: str, target: str) -> ElementTree.Element:
    return validate("proxy", pgt=pgt, targetService=target)


def test_proxy_flow_issues_and_validates_a_proxy_ticket(
    teacher: Any, ent: Service, arena: Service, callback: ProxyCallback
) -> None:
    pgt = proxy_granting_ticket(teacher, callback)
    assert pgt.startswith("PGT-")
    answer = proxy_ticket(pgt, ARENA + "api")
    pt = answer.findtext("cas:proxySuccess/cas:proxyTicket", namespaces=NS)
    assert pt is not None
    assert pt.startswith("PT-")
    root = validate("proxyValidate", ticket=pt, service=ARENA + "api")
    assert user_of(root) == teacher.login
    proxies = [p.text for p in root.iterfind("cas:authenticationSuccess/cas:proxies/cas:proxy", NS)]
    assert proxies == [callback.url]
    assert failure_code(validate("proxyValidate", ticket=pt, service=ARENA + "api"))
    # The back-end service will get its single-logout request like the ENT.
    assert Participation.objects.filter(
        cas_ticket=pt, cas_service_url=ARENA + "api", sso_session__user=teacher
    ).exists()


def test_proxy_ticket_on_service_validate_is_refused(
    teacher: Any, ent: Service, arena: Service, callback: ProxyCallback
) -> None:
    pgt = proxy_granting_ticket(teacher, callback)
    pt = proxy_ticket(pgt, ARENA).findtext("cas:proxySuccess/cas:proxyTicket", namespaces=NS)
    assert pt is not None
    root = validate("serviceValidate", ticket=pt, service=ARENA)
    assert failure_code(root) == "INVALID_TICKET_SPEC"
    # Burned all the same.
    assert failure_code(validate("proxyValidate", ticket=pt, service=ARENA)) == "INVALID_TICKET"


def test_proxy_refuses_unknown_pgt_and_unregistered_target(
    teacher: Any, ent: Service, callback: ProxyCallback
) -> None:
    assert failure_code(proxy_ticket("PGT-inventé", ENT_HOME)) == "INVALID_TICKET"
    pgt = proxy_granting_ticket(teacher, callback)
    assert failure_code(proxy_ticket(pgt, "https://inconnu.exemple.fr/")) == "UNAUTHORIZED_SERVICE"
    assert failure_code(validate("proxy", pgt=pgt)) == "INVALID_REQUEST"


def test_proxy_refuses_a_target_outside_the_audience(
    pupil: Any, ent: Service, arena: Service, callback: ProxyCallback
) -> None:
    pgt = proxy_granting_ticket(pupil, callback)
    assert failure_code(proxy_ticket(pgt, ARENA)) == "UNAUTHORIZED_SERVICE"


def test_proxy_refuses_a_third_party_target_without_consent(
    teacher: Any, ent: Service, quiz: Service, callback: ProxyCallback
) -> None:
    pgt = proxy_granting_ticket(teacher, callback)
    assert failure_code(proxy_ticket(pgt, QUIZ)) == "UNAUTHORIZED_SERVICE"


def test_pgt_url_outside_the_registered_prefix_is_refused(
    pupil: Any, ent: Service, callback: ProxyCallback
) -> None:
    ticket = obtain_ticket(signed_in(pupil))
    pgt_url = callback.base + "ailleurs"
    root = validate("serviceValidate", ticket=ticket, service=ENT_HOME, pgtUrl=pgt_url)
    assert failure_code(root) == "INVALID_PROXY_CALLBACK"
    assert callback.received == []


def test_plain_http_pgt_url_is_refused_in_production(
    pupil: Any, ent: Service, callback: ProxyCallback
) -> None:
    ticket = obtain_ticket(signed_in(pupil))
    with override_settings(CAS_ALLOW_HTTP_PROXY_CALLBACK=False):
        root = validate("serviceValidate", ticket=ticket, service=ENT_HOME, pgtUrl=callback.url)
    assert failure_code(root) == "INVALID_PROXY_CALLBACK"
    assert callback.received == []


def test_service_without_proxy_prefix_may_not_proxy(teacher: Any, arena: Service) -> None:
    ticket = obtain_ticket(signed_in(teacher), ARENA)
    root = validate(
        "serviceValidate", ticket=ticket, service=ARENA, pgtUrl="https://arena.exemple.fr/pgt"
    )
    assert failure_code(root) == "UNAUTHORIZED_SERVICE_PROXY"


def test_callback_that_fails_gets_no_pgt(pupil: Any, ent: Service, callback: ProxyCallback) -> None:
    callback.status = 404
    ticket = obtain_ticket(signed_in(pupil))
    root = validate("serviceValidate", ticket=ticket, service=ENT_HOME, pgtUrl=callback.url)
    assert user_of(root) == pupil.login
    assert root.find("cas:authenticationSuccess/cas:proxyGrantingTicket", NS) is None
    assert not CasTicket.objects.filter(kind=TicketKind.PROXY_GRANTING).exists()


def test_logout_burns_the_proxy_granting_ticket(
    teacher: Any, ent: Service, arena: Service, callback: ProxyCallback
) -> None:
    browser = signed_in(teacher)
    ticket = obtain_ticket(browser)
    root = validate("serviceValidate", ticket=ticket, service=ENT_HOME, pgtUrl=callback.url)
    iou = root.findtext("cas:authenticationSuccess/cas:proxyGrantingTicket", namespaces=NS)
    pgt = callback.pgt_for(iou or "")
    browser.get("/cas/logout")
    assert failure_code(proxy_ticket(pgt, ARENA)) == "INVALID_TICKET"


# --- /cas/logout ---------------------------------------------------------------------------


def test_logout_returns_to_a_registered_service(pupil: Any, ent: Service) -> None:
    browser = signed_in(pupil)
    obtain_ticket(browser)
    response = browser.get("/cas/logout", {"service": ENT})
    assert response.status_code == 302
    assert response["Location"] == ENT
    assert SsoSession.objects.get().ended_at is not None
    assert urlsplit(browser.get(login_url(ENT_HOME))["Location"]).path == "/connexion/"


def test_logout_sends_single_logout_with_the_service_ticket(
    teacher: Any,
    demo: None,
    callback: ProxyCallback,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    declare_cas_service("cahier-cas", url_prefix=callback.base)
    browser = signed_in(teacher)
    service = callback.base + "cahier?classe=2nde"
    ticket = obtain_ticket(browser, service)
    with django_capture_on_commit_callbacks(execute=True):
        browser.get("/cas/logout")
    assert len(callback.posted) == 1
    request = parse(callback.posted[0]["logoutRequest"].encode())
    index = request.findtext("{urn:oasis:names:tc:SAML:2.0:protocol}SessionIndex")
    assert index == ticket


def test_logout_does_not_redirect_to_an_unregistered_service(pupil: Any, ent: Service) -> None:
    browser = signed_in(pupil)
    response = browser.post("/cas/logout", {"service": "https://pirate.exemple.com/"})
    assert response.status_code == 200
    assert "Vous êtes déconnecté" in response.content.decode()
    assert "_auth_user_id" not in browser.session


def test_a_validation_reads_twice_after_burning_the_ticket(
    pupil: Any, ent: Service, django_assert_num_queries: Any
) -> None:
    ticket = obtain_ticket(signed_in(pupil))

    # The burn (UPDATE … RETURNING), the ticket with its owner and session, the roles.
    with django_assert_num_queries(3):
        root = validate("p3/serviceValidate", ticket=ticket, service=ENT_HOME)

    assert user_of(root) == pupil.login
    assert attributes_of(root)["authenticationMethod"] == ["password"]
