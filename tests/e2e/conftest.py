"""Browser fixtures: one headless Chromium for the e2e tests, a fresh French context per test.

The browser is Debian's Chromium (``/usr/bin/chromium``); Playwright never downloads one.
Pages are served by pytest-django's ``live_server`` (a real HTTP server in a thread, on the
test database, which makes every browser test a transactional one). Every page records the
console errors and Content-Security-Policy refusals it meets, so a journey can assert that
none happened.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    expect,
    sync_playwright,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE_VIEWPORT = {"width": 390, "height": 844}

# Expectations wait for htmx swaps and page loads; a few seconds is plenty on a loaded CI box.
expect.set_options(timeout=10_000)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    # Sync Playwright keeps an asyncio event loop marked as running in this thread from start()
    # to stop(). Django sees that loop and refuses ORM calls from the same thread
    # (SynchronousOnlyOperation), including the fixtures that load the demo and flush the
    # database between tests. No coroutine of ours ever touches the ORM, so the check is
    # switched off for exactly as long as the browser lives. The browser lives for this
    # package only: tests that run afterwards on the same xdist worker get a thread without
    # a running loop (asyncio.run() and Django's async checks behave normally again).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()


@pytest.fixture
def browser_errors() -> list[str]:
    """Console errors, uncaught exceptions and CSP refusals seen by this test's pages."""
    return []


NewPage = Callable[..., Page]


def _serve_officially(live_server: Any, settings: Any) -> None:
    """The live server is the portal's official host, as in a deployment: the links the
    portal e-mails (they always name the official host) lead back to it."""
    from convergence.core.models import Academie

    host = live_server.url.split("://", 1)[1]
    settings.OFFICIAL_HOST = host
    academie = Academie.current()
    if academie.pk is not None and academie.official_host != host:
        academie.official_host = host
        academie.save()


@pytest.fixture
def new_page(
    browser: Browser, live_server: Any, browser_errors: list[str], settings: Any
) -> Iterator[NewPage]:
    """Open a page in a new context on the live server; keyword arguments go to the context.

    For example ``new_page(java_script_enabled=False)`` or ``new_page(viewport=PHONE_VIEWPORT)``.
    """
    contexts: list[BrowserContext] = []

    def record_console(message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        # Older Chromium words a CSP refusal "Refused to …", newer "… violates the following
        # Content Security Policy directive …"; both arrive as console errors.
        kind = "CSP" if text.startswith("Refused to") or "Content Security Policy" in text else ""
        where = message.location.get("url", "")
        browser_errors.append(f"{kind or 'console'}: {text} ({where})")

    def open_page(**options: Any) -> Page:
        _serve_officially(live_server, settings)
        options.setdefault("locale", "fr-FR")
        options.setdefault("timezone_id", "Europe/Paris")
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(10_000)
        context.on("console", record_console)
        context.on("weberror", lambda error: browser_errors.append(f"exception: {error.error}"))
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: NewPage) -> Page:
    """A desktop page (1280 px wide, French, JavaScript on) on the live server."""
    return new_page()


def login_field(page: Page) -> Locator:
    """The identifier field of the sign-in form (its label carries a hint after the name)."""
    return page.get_by_role("textbox", name=re.compile(r"^Identifiant"))


def password_field(page: Page) -> Locator:
    return page.get_by_label("Mot de passe", exact=True)


def sign_in(page: Page, user: Any) -> None:
    """Sign a demo person in through the login form, as they would, and wait for the dashboard."""
    page.goto("/connexion/")
    login_field(page).fill(user.login)
    password_field(page).fill(user.demo_password)
    password_field(page).press("Enter")
    from tests.helpers import has_totp, totp_code

    if has_totp(user):
        # Direction, administratifs, référents, DSI: their code changeant after the password.
        expect(page.get_by_role("heading", level=1)).to_have_text("Second facteur")
        code = page.get_by_role("textbox", name=re.compile(r"^Code changeant"))
        code.fill(totp_code(user))
        code.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {user.first_name}")
