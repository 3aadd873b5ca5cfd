"""What a phone downloads: the sign-in page and the dashboard within their byte budgets.

The pages are served the two production ways: ``collectstatic`` with the production storage
into a folder of the test's own (hashed names, gzip and Brotli beside each file), then either
WhiteNoise serving that folder (gunicorn alone: Brotli, since Chromium asks for it on the
loopback as on HTTPS) or nginx with deploy/nginx/convergence.conf in front (Debian's nginx:
gzip only, ``gzip_static``). pytest-django's ``live_server`` would serve static files itself,
from the apps, uncompressed, so these tests run their own server thread.

Bytes are counted by Chromium (the DevTools protocol's ``encodedDataLength``: headers and body
as they crossed the wire); a response taken from the browser's cache crosses nothing and
counts 0. A first visit is a fresh phone-sized browser context, a second one a new tab of the
same context. These are size budgets, not timings: they hold on any machine.

``.venv/bin/pytest tests/e2e/test_page_weight.py -n 0 -p no:cacheprovider -s`` prints the
figures (docs/performance.md, "Page weight").
"""

from __future__ import annotations

import contextlib
import copy
import shutil
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections
from django.test.testcases import LiveServerThread
from django.test.utils import override_settings
from playwright.sync_api import Browser, BrowserContext, Page, expect

from deploy.prodlike import ProdLike

from .conftest import PHONE_VIEWPORT, _serve_officially, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    # The first test also runs collectstatic (hashing and compressing every file: 30 s to
    # a minute and more on a busy machine); still bounded.
    pytest.mark.timeout(400),
]

# Decimal kilobytes: the stricter reading of "300 KB".
FIRST_VISIT_BUDGET = 300_000
SECOND_VISIT_BUDGET = 30_000

PRODUCTION_STATIC = {
    "STORAGES": {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "convergence.core.staticfiles.CompressedManifestStorage"},
    },
    "WHITENOISE_USE_FINDERS": False,
    "WHITENOISE_AUTOREFRESH": False,
}

# Who serves the static files, and the compression the browser gets from it.
SHAPES = {"whitenoise": "br", "nginx": "gzip"}

PHONE = {"viewport": PHONE_VIEWPORT, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The static files as ``collectstatic`` writes them in production."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=root, **PRODUCTION_STATIC):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@dataclass
class ProductionServer:
    url: str


@pytest.fixture(params=SHAPES)
def production_server(
    request: pytest.FixtureRequest,
    collected_static: Path,
    demo: None,
    transactional_db: None,
    settings: Any,
    tmp_path: Path,
) -> Iterator[ProductionServer]:
    """The portal in a server thread whose static files WhiteNoise serves from the collected
    folder, as gunicorn does in production; for ``nginx``, behind deploy/prodlike.py's nginx,
    which serves the same folder itself."""
    settings.STATIC_ROOT = collected_static
    for name, value in PRODUCTION_STATIC.items():
        setattr(settings, name, value)
    # Cached pages name their static files: with Redis shared by the suite's two workers, a
    # sign-in page cached by the other worker (plain storage, unhashed names) would be served
    # here. A key prefix of this test's own keeps its cache to itself.
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"page-weight-{uuid.uuid4().hex}"
    settings.CACHES = caches
    # A shared in-memory SQLite database is handed to the thread, as pytest-django does.
    shared = {
        connection.alias: connection
        for connection in connections.all()
        if connection.vendor == "sqlite" and connection.is_in_memory_db()
    }
    # No static handler of the test server's own: /static/ reaches WhiteNoise.
    thread = LiveServerThread("127.0.0.1", lambda app: app, connections_override=shared)
    thread.daemon = True
    for connection in shared.values():
        connection.inc_thread_sharing()
    thread.start()
    thread.is_ready.wait(timeout=60)
    try:
        if thread.error:
            raise thread.error
        if request.param == "nginx":
            with behind_nginx(thread.port, collected_static, tmp_path) as url:
                # nginx passes the host without its port ($host), as for a production host
                # on 443: the official host, and the origin of the forms, are the bare name.
                _serve_officially(ProductionServer(url="http://127.0.0.1"), settings)
                settings.CSRF_TRUSTED_ORIGINS = [url]
                yield ProductionServer(url=url)
        else:
            server = ProductionServer(url=f"http://127.0.0.1:{thread.port}")
            _serve_officially(server, settings)
            yield server
    finally:
        thread.terminate()
        for connection in shared.values():
            connection.dec_thread_sharing()


@contextlib.contextmanager
def behind_nginx(app_port: int, static: Path, folder: Path) -> Iterator[str]:
    """deploy/nginx/convergence.conf, as prodlike.py fills it, in front of ``app_port``."""
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed")
    shape = ProdLike(database_url="", redis_url="", var_dir=folder, processes=1)
    shape.app_ports = [app_port]
    (folder / "static").symlink_to(static)
    shape.write_nginx()
    shape.start_nginx()
    try:
        yield shape.url
    finally:
        shape.stop()


@dataclass
class Weight:
    """What one page load transferred, per resource type (Document, Stylesheet, Font…)."""

    requests: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    transferred: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    files: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.transferred.values())

    @property
    def over_the_network(self) -> int:
        return sum(1 for size, _, _ in self.files if size)

    def report(self, title: str) -> str:
        lines = [
            f"{title}: {sum(self.requests.values())} requests "
            f"({self.over_the_network} over the network), {self.total / 1000:.1f} kB"
        ]
        for kind in sorted(self.transferred, key=lambda kind: -self.transferred[kind]):
            lines.append(
                f"    {kind:<12} {self.requests[kind]:>3} requests "
                f"{self.transferred[kind] / 1000:>8.1f} kB"
            )
        for size, url, encoding in sorted(self.files, reverse=True):
            if size:
                lines.append(f"        {size / 1000:>8.1f} kB  {encoding or '-':<5} {url}")
        return "\n".join(lines)


def load(context: BrowserContext, path: str) -> tuple[Page, Weight]:
    """Open ``path`` in a new tab of ``context``; what crossed the network until the page,
    its fonts and its deferred parts were loaded."""
    page = context.new_page()
    session = context.new_cdp_session(page)
    responses: dict[str, tuple[str, str, str]] = {}
    weight = Weight()

    def received(event: dict[str, Any]) -> None:
        response = event["response"]
        headers = {name.lower(): value for name, value in response["headers"].items()}
        responses[event["requestId"]] = (
            event.get("type", "Other"),
            response["url"],
            headers.get("content-encoding", ""),
        )

    def finished(event: dict[str, Any]) -> None:
        kind, url, encoding = responses.get(event["requestId"], ("Other", "?", ""))
        if url.startswith("data:"):  # inside a stylesheet: nothing crossed the network
            return
        size = int(event["encodedDataLength"])
        weight.requests[kind] += 1
        weight.transferred[kind] += size
        weight.files.append((size, url.split("://", 1)[-1].split("/", 1)[-1], encoding))

    session.on("Network.responseReceived", received)
    session.on("Network.loadingFinished", finished)
    session.send("Network.enable")
    page.goto(path, wait_until="networkidle")
    # Deferred widgets swapped in (or given up): their text is laid out before fonts are
    # counted, so a second visit meets nothing the first one did not.
    page.wait_for_function("!document.querySelector('[aria-busy=true]')")
    # A font is requested once the text needing it is laid out, which may be after the
    # network first fell idle.
    page.evaluate("document.fonts.ready.then(() => document.fonts.size)")
    page.wait_for_load_state("networkidle")
    session.detach()
    return page, weight


def assert_styled(page: Page) -> None:
    """The stylesheets applied (integrity, hashed names and the icon subset did not break
    them): the State's font and an icon's mask."""
    assert "Marianne" in page.evaluate("getComputedStyle(document.body).fontFamily")
    assert page.evaluate("document.fonts.check('1em Marianne')")
    icon = page.locator("[class*='fr-icon-']:visible").first
    mask = icon.evaluate("e => getComputedStyle(e, '::before').maskImage")
    assert mask.startswith("url("), mask


OpenContext = Callable[[], tuple[BrowserContext, list[str]]]


@pytest.fixture
def open_context(browser: Browser, production_server: ProductionServer) -> Iterator[OpenContext]:
    """A fresh phone-sized context on the production server, with the console errors it
    meets (an integrity failure, a CSP refusal, a missing file)."""
    contexts: list[BrowserContext] = []

    def open_one() -> tuple[BrowserContext, list[str]]:
        context = browser.new_context(
            base_url=production_server.url, locale="fr-FR", timezone_id="Europe/Paris", **PHONE
        )
        context.set_default_timeout(15_000)
        errors: list[str] = []
        context.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        contexts.append(context)
        return context, errors

    yield open_one
    for context in contexts:
        context.close()


ITALIC_TEXT = """() => Array.from(document.querySelectorAll('body *'))
  .filter(e => getComputedStyle(e).fontStyle !== 'normal'
    || (e.placeholder && getComputedStyle(e, '::placeholder').fontStyle !== 'normal'))
  .map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || e.placeholder).slice(0, 40))"""


def italic_text(page: Page) -> str:
    """The elements set in italic (which costs a font file of its own), for a failure's
    message."""
    found = page.evaluate(ITALIC_TEXT)
    return "\nitalic: " + "; ".join(found) if found else ""


def assert_within_budget(
    name: str, shape: str, first: Weight, second: Weight, italic: str = ""
) -> None:
    print(first.report(f"{name} ({shape}), first visit"))  # noqa: T201 (the figures)
    print(second.report(f"{name} ({shape}), second visit"))  # noqa: T201
    stylesheets = [encoding for _, url, encoding in first.files if url.endswith(".css")]
    assert stylesheets
    assert set(stylesheets) == {SHAPES[shape]}
    assert first.total <= FIRST_VISIT_BUDGET, first.report("first visit")
    assert second.total <= SECOND_VISIT_BUDGET, second.report("second visit") + italic


def test_sign_in_page_fits_its_budget_on_a_first_and_a_second_visit(
    open_context: OpenContext, request: pytest.FixtureRequest
) -> None:
    context, errors = open_context()
    page, first = load(context, "/connexion/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion à Convergence")
    assert_styled(page)
    _, second = load(context, "/connexion/")
    # The display settings' pictograms, left out of the first visit, come with the modal.
    page.get_by_role("button", name="Paramètres d'affichage").click()
    expect(page.locator("#fr-theme-modal .fr-radio-rich__img svg")).to_have_count(3)
    assert errors == []
    assert_within_budget("/connexion/", shape_of(request), first, second)


def test_dashboard_fits_its_budget_on_a_first_and_a_second_visit(
    open_context: OpenContext, pupil: Any, request: pytest.FixtureRequest
) -> None:
    signing_in, _ = open_context()
    sign_in(signing_in.new_page(), pupil)
    # The same session in a context with an empty cache: the dashboard as a first visit.
    context, errors = open_context()
    context.add_cookies(signing_in.cookies())  # type: ignore[arg-type]
    page, first = load(context, "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {pupil.first_name}")
    assert_styled(page)
    again, second = load(context, "/")
    assert errors == []
    assert_within_budget("dashboard", shape_of(request), first, second, italic_text(again))


def shape_of(request: pytest.FixtureRequest) -> str:
    return str(request.node.callspec.params["production_server"])
