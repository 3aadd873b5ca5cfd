"""HTTP security headers and the strict CSP the templates must live with."""

from __future__ import annotations

import runpy
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


class InlineCodeFinder(HTMLParser):
    """Collects what a strict CSP would block: inline scripts, style attributes and blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts = 0
        self.inline_scripts: list[str] = []
        self.style_attributes: list[str] = []
        self.style_blocks = 0
        self.event_handlers: list[str] = []
        self._in_inline_script = False
        self._script_text = ""

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if "style" in names:
            self.style_attributes.append(tag)
        self.event_handlers.extend(f"{tag}[{name}]" for name in names if name.startswith("on"))
        if tag == "style":
            self.style_blocks += 1
        if tag == "script":
            self.scripts += 1
            kind = (names.get("type") or "").lower()
            data_only = kind in {"application/json", "application/ld+json"}
            if not names.get("src") and not data_only:
                self._in_inline_script = True
                self._script_text = ""

    def handle_data(self, data):
        if self._in_inline_script:
            self._script_text += data

    def handle_endtag(self, tag):
        if tag == "script" and self._in_inline_script:
            self.inline_scripts.append(self._script_text.strip())
            self._in_inline_script = False


def inline_code(response) -> InlineCodeFinder:
    finder = InlineCodeFinder()
    finder.feed(response.content.decode())
    return finder


def test_csp_allows_scripts_from_the_portal_only(client, db):
    directives = csp_directives(client.get("/connexion/"))
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]


def test_csp_allows_no_inline_code(client, db):
    policy = client.get("/connexion/").headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy


def test_csp_forbids_framing(client, db):
    directives = csp_directives(client.get("/connexion/"))
    assert directives["frame-ancestors"] == ["'none'"]


def test_frame_options_deny(client, db):
    assert client.get("/connexion/").headers["X-Frame-Options"] == "DENY"


def test_content_type_sniffing_is_off(client, db):
    assert client.get("/connexion/").headers["X-Content-Type-Options"] == "nosniff"


def test_referrer_stays_on_the_portal(client, db):
    assert client.get("/connexion/").headers["Referrer-Policy"] == "same-origin"


def test_error_pages_carry_the_csp_too(client, db):
    response = client.get("/page-absente/")
    assert response.status_code == 404
    assert csp_directives(response)["script-src"] == ["'self'"]


def test_session_cookie_is_http_only_and_same_site_lax_after_sign_in(client, pupil):
    response = client.post("/connexion/", {"login": pupil.login, "password": pupil.demo_password})
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie.value
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_hsts_is_sent_over_https(client, db):
    response = client.get("/connexion/", secure=True)
    assert response.headers["Strict-Transport-Security"] == (
        f"max-age={settings.SECURE_HSTS_SECONDS}"
    )
    assert settings.SECURE_HSTS_SECONDS >= 31536000


def test_hsts_is_not_sent_over_plain_http(client, db):
    assert "Strict-Transport-Security" not in client.get("/connexion/").headers


def test_sign_in_page_has_no_inline_script(client, db):
    found = inline_code(client.get("/connexion/"))
    assert found.scripts > 0
    assert found.inline_scripts == []


def test_sign_in_page_has_no_style_attribute_nor_block(client, db):
    found = inline_code(client.get("/connexion/"))
    assert found.style_attributes == []
    assert found.style_blocks == 0


def test_sign_in_page_has_no_inline_event_handler(client, db):
    assert inline_code(client.get("/connexion/")).event_handlers == []


@pytest.mark.parametrize("path", ["/", "/compte/", "/compte/mot-de-passe/", "/aide/erreurs/"])
def test_signed_in_pages_have_no_inline_script_nor_style(client, teacher, path):
    client.force_login(teacher)
    response = client.get(path)
    assert response.status_code == 200
    found = inline_code(response)
    assert found.inline_scripts == []
    assert found.style_attributes == []
    assert found.style_blocks == 0
    assert found.event_handlers == []


# --- cookie names over HTTPS ----------------------------------------------------------------

COOKIE_SETTINGS = (
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_NAME",
    "CSRF_COOKIE_NAME",
    "MESSAGE_COOKIE_NAME",
    "MESSAGE_STORAGE",
)


def settings_over_https(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The settings module evaluated afresh with CONVERGENCE_HTTPS=1: cookie names are
    decided at import time, so the running settings cannot show the HTTPS branch."""
    monkeypatch.setenv("CONVERGENCE_HTTPS", "1")
    return runpy.run_path(str(Path(settings.BASE_DIR) / "src" / "convergence" / "settings.py"))


def test_every_cookie_is_named_host_prefixed_over_https(monkeypatch: pytest.MonkeyPatch) -> None:
    https = settings_over_https(monkeypatch)

    names = [https["SESSION_COOKIE_NAME"], https["CSRF_COOKIE_NAME"], https["MESSAGE_COOKIE_NAME"]]
    assert all(name.startswith("__Host-") for name in names), names
    assert https["SESSION_COOKIE_SECURE"] is True
    assert https["MESSAGE_STORAGE"] == settings.MESSAGE_STORAGE


def test_messages_cookie_is_host_prefixed_secure_and_site_wide_over_https(
    monkeypatch: pytest.MonkeyPatch, client, pupil
) -> None:
    https = settings_over_https(monkeypatch)
    with override_settings(**{name: https[name] for name in COOKIE_SETTINGS}):
        client.force_login(pupil)
        response = client.post("/deconnexion/", secure=True)
        cookie = response.cookies.get(https["MESSAGE_COOKIE_NAME"])

        assert cookie is not None, sorted(response.cookies)
        assert "messages" not in response.cookies
        assert cookie.value
        assert cookie["secure"] is True
        assert cookie["path"] == "/"
        assert cookie["domain"] == ""
        assert cookie["httponly"] is True

        # Read back under the same name: the next page shows the message and clears it.
        following = client.get("/connexion/", secure=True)
        assert following.cookies[https["MESSAGE_COOKIE_NAME"]]["max-age"] == 0
