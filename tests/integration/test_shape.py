"""Across two application processes behind nginx, a person's sign-in, session, throttling,
second factor and single sign-on behave as on one process: all shared state is in PostgreSQL
and Redis, none in a process."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.parse

import requests

from deploy.prodlike import wait_until
from tests.helpers import code_for_secret
from tests.integration.visitor import Visitor, signed_in

LEA = ("lmartin", "Girafe-Orange-Velo-71")
PHILIPPE = ("pgirard", "Cerisier#Brume-Tilleul8")
PHILIPPE_TOTP = "2RSQHNWJUHG3LJLMVCCTDURJUB4U7OX4"
THIERRY = ("troux", "Atelier%Chaufferie-75")
SOPHIE = ("sbernard", "Pythagore&Thales-1985")
ARENA = {
    "client_id": "arena-demo",
    "client_secret": "arena-demo-secret-a-ne-pas-utiliser-ailleurs",
    "redirect_uri": "http://127.0.0.1:8002/oidc/callback",
}


def test_a_sign_in_on_one_process_is_honoured_by_the_other(shape, app_urls):
    person = Visitor(app_urls[0])
    assert signed_in(person.sign_in(*LEA))
    dashboard = person.get("/", base=app_urls[1])
    assert dashboard.status_code == 200
    assert "Léa" in dashboard.text


def test_a_form_served_by_one_process_is_accepted_by_the_other(shape, app_urls):
    person = Visitor(app_urls[0])
    answer = person.sign_in(*LEA, base=app_urls[0], post_base=app_urls[1])
    assert signed_in(answer)


def test_failures_on_both_processes_count_towards_one_throttle(shape, app_urls):
    """Five free failures per account and address, then growing delays: with counters kept
    per process the two processes would judge ten failures before the first refusal."""
    person = Visitor(shape.url)
    judged = 0
    refusal = None
    for attempt in range(10):
        answer = person.sign_in(THIERRY[0], "mauvais-mot-de-passe", base=app_urls[attempt % 2])
        if answer.status_code == 429:
            refusal = answer
            break
        assert answer.status_code == 200
        judged += 1
    assert refusal is not None
    assert 5 <= judged <= 7
    assert int(refusal.headers["Retry-After"]) >= 1
    # Even the right password waits its turn, on either process.
    assert person.sign_in(*THIERRY, base=app_urls[judged % 2]).status_code == 429


def test_a_second_factor_code_used_on_one_process_is_refused_on_the_other(shape, app_urls):
    code = code_for_secret(PHILIPPE_TOTP)
    first = Visitor(app_urls[0])
    assert first.sign_in(*PHILIPPE).status_code == 302
    assert first.enter_code(code).headers.get("Location") == "/"
    second = Visitor(app_urls[1])
    assert second.sign_in(*PHILIPPE).status_code == 302
    replay = second.enter_code(code)
    assert replay.status_code != 302
    assert second.get("/").status_code == 302  # still not signed in


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def test_openid_connect_code_flow_spans_the_two_processes(shape, app_urls):
    verifier, challenge = _pkce()
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": ARENA["client_id"],
            "redirect_uri": ARENA["redirect_uri"],
            "scope": "openid profile",
            "state": "etat",
            "nonce": "nonce",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    staff = Visitor(app_urls[0])  # Arena is for staff: Sophie, a teacher
    assert signed_in(staff.sign_in(*SOPHIE))
    authorize = staff.get(f"/oidc/authorize/?{query}", base=app_urls[0])
    assert authorize.status_code == 302, authorize.text[:500]
    location = urllib.parse.urlparse(authorize.headers["Location"])
    code = urllib.parse.parse_qs(location.query)["code"][0]
    tokens = requests.post(
        f"{app_urls[1]}/oidc/token/",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": ARENA["redirect_uri"],
            "client_id": ARENA["client_id"],
            "client_secret": ARENA["client_secret"],
            "code_verifier": verifier,
        },
        timeout=15,
    )
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert "id_token" in body
    refreshed = requests.post(
        f"{app_urls[0]}/oidc/token/",
        data={
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "client_id": ARENA["client_id"],
            "client_secret": ARENA["client_secret"],
        },
        timeout=15,
    )
    assert refreshed.status_code == 200, refreshed.text


def test_a_forged_forwarded_for_does_not_change_the_recorded_address(shape, sql):
    person = Visitor(shape.url)
    answer = person.sign_in(
        LEA[0], "pas-le-bon-mot-de-passe", headers={"X-Forwarded-For": "203.0.113.66"}
    )
    assert answer.status_code == 200
    row = sql.execute(
        "SELECT ip_address FROM audit_auditevent WHERE event_type = 'login.failed' "
        "ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert row is not None
    assert str(row[0]) == "127.0.0.1"


def test_static_files_come_from_nginx_compressed_and_cached_for_a_year(shape):
    paths = json.loads((shape.var_dir / "static" / "staticfiles.json").read_text())["paths"]
    hashed = paths["dsfr/dist/dsfr/dsfr.main.min.css"]
    assert hashed != "dsfr/dist/dsfr/dsfr.main.min.css"
    static = requests.get(
        f"{shape.url}/static/{hashed}", headers={"Accept-Encoding": "gzip"}, timeout=15
    )
    assert static.status_code == 200
    assert static.headers["Content-Encoding"] == "gzip"
    assert static.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in static.headers["Vary"]
    assert ".fr-btn" in static.text
    # Under its own name a file may change at the next release: asked again after a day.
    original = requests.get(f"{shape.url}/static/dsfr/dist/dsfr/dsfr.main.min.css", timeout=15)
    assert original.headers["Cache-Control"] == "public, max-age=86400"
    # Pages are never compressed (BREACH), whatever the browser accepts.
    page = requests.get(f"{shape.url}/connexion/", headers={"Accept-Encoding": "gzip"}, timeout=15)
    assert "Content-Encoding" not in page.headers
    assert f"/static/{hashed}" in page.text


def test_metrics_stay_private(shape, app_urls):
    assert requests.get(f"{shape.url}/metrics", timeout=15).status_code == 404
    scraped = requests.get(
        f"{app_urls[0]}/metrics",
        headers={"Authorization": "Bearer jeton-de-test-des-metriques"},
        timeout=15,
    )
    assert scraped.status_code == 200
    assert "convergence_sign_ins_total" in scraped.text


def test_readiness_through_nginx(shape):
    assert requests.get(f"{shape.url}/sante/pret", timeout=15).status_code == 200
    assert requests.get(f"{shape.url}/sante/vivant", timeout=15).text.strip() == "ok"


def test_a_cas_ticket_issued_by_one_process_is_validated_by_the_other(shape, app_urls):
    service = "http://127.0.0.1:8001/connexion"
    person = Visitor(app_urls[0])
    assert signed_in(person.sign_in(*LEA))
    login = person.get("/cas/login?" + urllib.parse.urlencode({"service": service}))
    assert login.status_code == 302, login.text[:300]
    ticket = urllib.parse.parse_qs(urllib.parse.urlparse(login.headers["Location"]).query)[
        "ticket"
    ][0]
    query = urllib.parse.urlencode({"service": service, "ticket": ticket})
    validation = requests.get(f"{app_urls[1]}/cas/p3/serviceValidate?{query}", timeout=15)
    assert "authenticationSuccess" in validation.text
    assert "lmartin" in validation.text
    # Single use, whichever process is asked.
    again = requests.get(f"{app_urls[0]}/cas/p3/serviceValidate?{query}", timeout=15)
    assert "authenticationFailure" in again.text


def test_the_access_log_keeps_no_link_key_and_no_query_string(shape):
    key = "Ab12Cd34Ef56-cle-de-test"
    requests.get(f"{shape.url}/mot-de-passe-oublie/cle/{key}/", timeout=15)
    requests.get(f"{shape.url}/connexion/navigateur/{key}/", timeout=15)
    requests.get(f"{shape.url}/cas/p3/serviceValidate?ticket=ST-{key}", timeout=15)
    path = shape.var_dir / "nginx" / "logs" / "access.log"
    # nginx writes a line just after sending the answer: wait for the last one.
    wait_until(
        lambda: '"GET /cas/p3/serviceValidate"' in path.read_text(), timeout=5, what="log line"
    )
    log = path.read_text()
    assert key not in log
    assert '"GET /mot-de-passe-oublie/cle/***"' in log
    assert '"GET /connexion/navigateur/***"' in log


def test_an_anonymous_large_body_is_refused_by_nginx(shape):
    answer = requests.post(f"{shape.url}/connexion/", data=b"x" * (2 * 2**20), timeout=15)
    assert answer.status_code == 413
