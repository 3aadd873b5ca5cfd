"""Every page of every demo profile, on a desktop and on a phone: labels people can read.

Each test signs one demo person in through the sign-in form (the second-factor page, for
those who have one, is checked on the way) and walks the portal as they can: from the
dashboard and "Mon compte" it follows the same-origin links it finds (header, menu, footer,
pages), breadth first, up to ``MAX_PAGES`` pages. It leaves out signing out, downloads
(exports, PDFs, letters), the SSO endpoints, ``mailto:`` and other hosts, and visits at most
``MAX_VARIANTS`` pages of one shape (``/gestion/comptes/12/`` and ``/gestion/comptes/13/`` are
one shape, so are two help guides), so a list of a hundred accounts costs one visit. The pages
everyone meets before signing in (sign-in for each profile, forgotten password and identifier
and their "sent" pages, activation, legal pages, error codes, the help's guides, search and
troubleshooter, the 404 page) are the anonymous test's. The
menu is also opened once on a phone, where the header's links move into it. The pupil has
two favourites, for their buttons; the DSI also gets a few pages of the administration.

Every page is checked at 1280 x 800, then at 390 x 844 (the same page, resized), and fails on:

- an interactive element (link, button, ``summary``, ``select``, field) whose accessible name
  is not text a person can see: the visible text inside the element, or of its visible label,
  must not be empty and must be part of its accessible name (WCAG 2.5.3). A text counts as
  visible when at least half of its box lies inside every ancestor that clips it (overflow
  hidden or clip, ``clip``, ``clip-path``) and not above or left of the page. That catches a
  DSFR button rendered icon-only, its text pushed out of a 40 px box, and text hidden with
  ``fr-sr-only``. An icon-only button passes only with an ``aria-label`` and a DSFR tooltip
  (``aria-describedby`` naming a ``role="tooltip"``) that shows when it gets the focus. A
  search field may take its visible label from the button beside it (RGAA 11.1), as the
  DSFR's search bar does.
- text cut off: a text whose box sticks out, by more than a pixel, of an ancestor that hides
  its overflow. Measuring the text's own boxes, rather than comparing ``scrollWidth`` and
  ``clientWidth``, keeps out what overflows on purpose without being text (icons, shadows,
  pseudo-elements) and boxes that are hidden as a whole (``fr-sr-only``); scroll containers
  (``overflow: auto``, a wide table) do not count, their content is within reach.
- a page wider than the window (``document.documentElement.scrollWidth``), naming the
  elements that stick out;
- an axe-core violation of "serious" or "critical" impact (at desktop size only: axe judges
  names, labels, contrast and ARIA, which do not change with the width).

The problems of one walk are reported together, by page and size, with each element's HTML.
"""

from __future__ import annotations

import re
import warnings
from collections import deque
from contextlib import suppress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from tests.helpers import has_totp, totp_code

from .conftest import PHONE_VIEWPORT, NewPage, login_field, password_field, sign_in
from .test_accessibility import serious_violations
from .test_passkeys import add_virtual_authenticator, confirm_identity

# Each walk: up to 46 pages at two sizes with axe, 10 to 40 s here; bounded well above.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser"), pytest.mark.timeout(300)]

DESKTOP_VIEWPORT = {"width": 1280, "height": 800}
SIZES = (("desktop", DESKTOP_VIEWPORT), ("phone", PHONE_VIEWPORT))

# Bounds of one walk: pages in all, and pages of one shape (see the module's docstring).
MAX_PAGES = 46
MAX_VARIANTS = 1

# Links never followed: signing out, downloads, the SSO endpoints (they redirect to the
# services), the administration (the DSI's walk visits a few of its pages by name), the
# documents that are not pages (the status feed and JSON document), and the webmail's pages
# that read a mail server (tests/e2e/test_mail_journey.py walks them with one, axe included;
# its set-up and signature pages need none and stay in the walk).
SKIPPED_PATHS = re.compile(
    r"/deconnexion/|/export/|/pdf/|/lettre/|^/oidc/|^/cas/|^/administration/|^/media/|^/static/"
    r"|\.atom$|\.json$"
    r"|^/messagerie/(?!appareils/|signature/)"
)

# The anonymous test's pages (the same for everyone), left out of the signed-in walks: the
# sign-in paths, the legal pages, the help's guides, search and troubleshooter.
PUBLIC_PAGES = re.compile(
    r"^/(connexion|activation|mot-de-passe-oublie|identifiant-oublie)/"
    r"|^/(mentions-legales|donnees-personnelles|accessibilite)/$"
    r"|^/aide/(guides|recherche|depannage)/"
    r"|^/statut/"
)
# Pages named by a slug rather than a number, one shape each kind (a guide, a step).
SLUGGED = re.compile(r"^/aide/(guides|depannage)/")
LEGAL_PAGES = ("/mentions-legales/", "/donnees-personnelles/", "/accessibilite/", "/plan-du-site/")

# The administration's pages in the DSI's walk, by the demo person whose account they show.
ADMIN_PAGES = (
    "/administration/",
    "/administration/accounts/user/",
    "/administration/accounts/user/{lea}/change/",
    "/administration/portal/service/",
    "/administration/audit/auditevent/",
)

# What Django's own administration templates and widgets fail: icon-only controls
# with a title, checkboxes and fields named by aria-label or not at all, the tabular inlines'
# fields without labels (and the change form 1,489 px wide), axe's findings on the same.
DJANGO_ADMIN = (
    "theme-toggle",
    "toggle-nav-sidebar",
    'id="nav-filter"',
    'id="action-toggle"',
    'class="action-select"',
    'class="toggle ',
    '<a href="?o=',
    "selector-",
    'placeholder="Filtrer"',
    'id="calendarlink',
    'id="clocklink',
    'class="vDateField"',
    'class="vTimeField"',
    "related-widget-wrapper-link",
    'name="assignments-',
    'name="form-',
    "the page is",
    "axe label",
    "axe select-name",
    "axe aria-prohibited-attr",
    "axe link-in-text-block",
)

# Django's administration is the DSI's back office, drawn by Django's own templates and
# widgets: its known faults (above) are reported as warnings, not failures, and the
# accessibility statement lists the administration as not evaluated. Any other problem on
# its pages, and every problem on the portal's own pages, fails. Page shape → fragments of
# the problem lines accepted there.
ACCEPTED_FAULTS: dict[str, tuple[str, ...]] = {
    re.sub(r"\{\w+\}", "*", path): DJANGO_ADMIN for path in ADMIN_PAGES
}


# The checks run in the page (readable_pages.js): {problems: [...], iconOnly: [...]}.
CHECK_PAGE = (Path(__file__).parent / "readable_pages.js").read_text(encoding="utf-8")


def _shape(path: str) -> str:
    """``/gestion/comptes/12/``, ``/aide/erreurs/CONV-404/`` and ``/aide/guides/<slug>/`` →
    one shape per kind."""
    slugged = SLUGGED.match(path)
    if slugged:
        return slugged.group(0) + "*"
    return "/".join("*" if re.search(r"\d", part) else part for part in path.split("/"))


def _path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class Walk:
    """One walk: the pages to visit, those visited, the problems found on them."""

    def __init__(self, page: Page, who: str, *, skipped: re.Pattern[str] | None = None) -> None:
        self.page = page
        self.who = who
        self.skipped = skipped
        self.origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
        self.queue: deque[str] = deque()
        self.seen: set[str] = set()
        self.shapes: dict[str, int] = {}
        self.visited: list[str] = []
        self.checked: list[str] = []
        self.problems: list[str] = []
        self.expected: list[str] = []

    def add(self, url: str, *, forced: bool = False) -> None:
        """Queue a link found on a page (``forced``: a starting page, queued whatever it is)."""
        parts = urlsplit(url.split("#", 1)[0])
        if parts.scheme not in ("", "http", "https"):
            return  # mailto:, tel:
        if parts.netloc and f"{parts.scheme}://{parts.netloc}" != self.origin:
            return
        path = parts.path or "/"
        target = _path_and_query(url.split("#", 1)[0])
        if target in self.seen:
            return
        shape = _shape(path) + ("?" if parts.query else "")
        if not forced and (
            SKIPPED_PATHS.search(path)
            or (self.skipped and self.skipped.search(path))
            or self.shapes.get(shape, 0) >= MAX_VARIANTS
        ):
            return
        self.seen.add(target)
        self.shapes[shape] = self.shapes.get(shape, 0) + 1
        self.queue.append(target)

    def run(self, *, limit: int = MAX_PAGES) -> None:
        while self.queue and len(self.visited) < limit:
            self.visit(self.queue.popleft())
        if limit == MAX_PAGES:
            # Every page found was checked: a cap reached silently would leave pages out.
            assert not self.queue, f"{self.who}: pages left unchecked: {list(self.queue)}"

    def visit(self, target: str, *, status: int = 200) -> None:
        """Load a page, queue its links and check it at both sizes."""
        page = self.page
        page.set_viewport_size(DESKTOP_VIEWPORT)
        try:
            response = page.goto(target)
        except PlaywrightError as error:
            if "Download is starting" in str(error):
                return
            raise
        self.visited.append(target)
        if response is not None and response.status != status:
            self.report(target, "desktop", [f"answered {response.status}, not {status}"])
        # A redirection (to the sign-in, to a reauthentication) is checked where it lands,
        # once.
        landed = _path_and_query(page.url)
        if landed != target:
            if landed in self.seen:
                return
            self.seen.add(landed)
        self.settle()
        for href in page.eval_on_selector_all(
            "a[href]:not([download])", "links => links.map(link => link.href)"
        ):
            self.add(href)
        self.check(landed)

    def settle(self) -> None:
        """Wait until deferred widgets and htmx requests are done (or a few seconds passed)."""
        with suppress(PlaywrightError):
            self.page.wait_for_function(
                "!document.querySelector('.htmx-request, [aria-busy=\"true\"]')", timeout=5_000
            )

    def check(self, where: str) -> None:
        page = self.page
        self.checked.append(where)
        for size, viewport in SIZES:
            page.set_viewport_size(viewport)
            lines = self.problems_here()
            if size == "desktop":
                lines += [f"axe {violation}" for violation in serious_violations(page)]
            self.report(where, size, lines)
        page.set_viewport_size(DESKTOP_VIEWPORT)

    def problems_here(self) -> list[str]:
        found = self.page.evaluate(CHECK_PAGE)
        lines = [f"{item['problem']}: {item['html']}" for item in found["problems"]]
        return lines + self.check_tooltips(found["iconOnly"])

    def check_tooltips(self, icon_only: list[dict[str, Any]]) -> list[str]:
        """An icon-only button's tooltip shows when the button gets the focus."""
        lines = []
        for item in icon_only:
            self.page.locator(f'[data-readable-icon-only="{item["index"]}"]').focus()
            try:
                expect(self.page.locator(f"#{item['tooltip']}")).to_be_visible(timeout=2_000)
            except AssertionError:
                lines.append(f"its tooltip does not show on focus: {item['html']}")
        return lines

    def check_phone_menu(self) -> None:
        """On a phone the header's links live in the menu: open it, check what it shows."""
        page = self.page
        page.set_viewport_size(PHONE_VIEWPORT)
        page.locator("#bouton-menu").click()
        menu = page.locator("#menu-principal")
        expect(menu).to_be_visible()
        self.report(f"{_path_and_query(page.url)} (menu open)", "phone", self.problems_here())
        menu.get_by_role("button", name="Fermer").click()
        expect(menu).to_be_hidden()
        page.set_viewport_size(DESKTOP_VIEWPORT)

    def report(self, where: str, size: str, lines: list[str]) -> None:
        known = ACCEPTED_FAULTS.get(_shape(urlsplit(where).path), ())
        expected = [line for line in lines if any(fragment in line for fragment in known)]
        unexpected = [line for line in lines if line not in expected]
        for found, entries in ((expected, self.expected), (unexpected, self.problems)):
            if found:
                heading = f"{where} ({self.who}, {size}):\n"
                entries.append(heading + "\n".join(f"  - {line}" for line in found))

    def assert_readable(self) -> None:
        assert self.checked, f"{self.who}: no page checked"
        for entry in self.expected:
            warnings.warn(f"Django administration, accepted: {entry}", stacklevel=2)
        summary = f"{self.who}, {len(self.checked)} pages checked: {' '.join(self.checked)}"
        assert not self.problems, summary + "\n" + "\n".join(self.problems)


def _sign_in(walk: Walk, user: Any) -> None:
    """Sign in through the form; the second-factor page is checked on the way."""
    page = walk.page
    page.goto("/connexion/")
    login_field(page).fill(user.login)
    password_field(page).fill(user.demo_password)
    password_field(page).press("Enter")
    if has_totp(user):
        expect(page.get_by_role("heading", level=1)).to_have_text("Second facteur")
        walk.check(_path_and_query(page.url))
        code = page.get_by_role("textbox", name=re.compile(r"^Code changeant"))
        code.fill(totp_code(user))
        code.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {user.first_name}")


PROFILES = [
    "pupil",
    "parent",
    "teacher",
    "head_of_school",
    "cpe",
    "administrative_agent",
    "agent",
    "referent",
    "dsi",
]


@pytest.mark.parametrize("profile", PROFILES)
def test_every_page_of_a_profile_is_readable(
    profile: str, request: pytest.FixtureRequest, new_page: NewPage
) -> None:
    from convergence.accounts.models import User
    from convergence.portal import actions
    from convergence.portal.models import Service

    user = request.getfixturevalue(profile)
    if profile == "pupil":
        for slug in ("messagerie", "ent"):
            actions.pin_service(acting_user=user, service=Service.objects.get(slug=slug))
    page = new_page(viewport=DESKTOP_VIEWPORT)
    page.goto("/connexion/")
    walk = Walk(page, f"{profile} {user.login}", skipped=PUBLIC_PAGES)
    _sign_in(walk, user)
    walk.add(reverse("portal:dashboard"), forced=True)
    walk.add(reverse("accounts:account"), forced=True)
    walk.run(limit=1)
    walk.check_phone_menu()
    walk.run()
    if user.is_staff:
        lea = User.objects.get(first_name="Léa", last_name="Martin")
        for path in ADMIN_PAGES:
            walk.visit(path.format(lea=lea.pk))
    walk.assert_readable()


def test_every_page_before_signing_in_is_readable(new_page: NewPage, demo: None) -> None:
    from convergence.accounts.models import Profile

    page = new_page(viewport=DESKTOP_VIEWPORT)
    page.goto("/connexion/")
    walk = Walk(page, "anonymous")
    walk.add(reverse("account_login"), forced=True)
    for profile in Profile.values:
        walk.add(f"{reverse('account_login')}?profil={profile}", forced=True)
    for name in (
        "account_reset_password",
        "account_reset_password_done",
        "accounts:forgot_login",
        "accounts:forgot_login_done",
        "accounts:activation",
    ):
        walk.add(reverse(name), forced=True)
    walk.add(reverse("error_codes"), forced=True)
    for path in LEGAL_PAGES:
        walk.add(path, forced=True)
    walk.run(limit=1)
    walk.check_phone_menu()
    walk.run()
    walk.visit("/cette-page-n-existe-pas/", status=404)
    walk.assert_readable()


def test_second_factor_step_with_a_passkey_is_readable(new_page: NewPage, teacher: Any) -> None:
    """The passkey's pages, met only after a form: enrolment, the recovery codes it gives,
    then the second-factor step offering "Utiliser une clé d'accès"."""
    page = new_page(viewport=DESKTOP_VIEWPORT)
    add_virtual_authenticator(page)
    walk = Walk(page, "teacher with a passkey")
    sign_in(page, teacher)
    page.goto(reverse("mfa_add_webauthn"))
    confirm_identity(page, teacher)
    walk.check(_path_and_query(page.url))
    page.locator("label[for=id_passwordless]").click()
    page.get_by_role("button", name="Enregistrer la clé d'accès").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Codes de secours")
    walk.check(_path_and_query(page.url))
    page.context.clear_cookies()
    page.goto(reverse("account_login"))
    login_field(page).fill(teacher.login)
    password_field(page).fill(teacher.demo_password)
    password_field(page).press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Second facteur")
    expect(page.get_by_role("button", name="Utiliser une clé d'accès")).to_be_visible()
    walk.check(_path_and_query(page.url))
    walk.assert_readable()
