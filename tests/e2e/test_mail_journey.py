"""The webmail in a browser, as the issue tells it: Sophie Bernard (teacher) reads her head of
school's message, answers it with a PDF, finds her answer in « Envoyés » and by the advanced
search; Philippe Girard receives it. The phishing message names its link's real domain and
nothing is loaded from elsewhere; axe-core finds nothing serious on the mail pages, in light
and dark mode; on a phone the inbox does not scroll sideways.

The mail servers are the demo's (pymap IMAP, aiosmtpd submission), seeded, on free ports.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, Request, expect

from demo.mail.seed import PHISHING_DOMAIN, minimal_pdf

from .conftest import PHONE_VIEWPORT, NewPage, sign_in
from .mail_servers import mail_servers  # noqa: F401
from .test_accessibility import assert_no_serious_violations

# Every test here reads the demo's seeded mailboxes through the embedded servers.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.usefixtures("mail_servers"),
]

HEAD_SUBJECT = "Conseil pédagogique du jeudi — ordre du jour"
ANSWER_SUBJECT = f"Re: {HEAD_SUBJECT}"
PHISHING_SUBJECT = "Votre boîte aux lettres est pleine, validez votre compte"
NEWSLETTER_SUBJECT = "La lettre du numérique éducatif — n° 47 : l'IA en classe, mode d'emploi"
# "tableur" is in no seeded message: the search can only find Sophie's answer.
ANSWER_LINE = "Je serai présente jeudi et j'apporterai le tableur des évaluations de 6e."
SEARCHED_WORD = "tableur"
ATTACHMENT = "progression 4e.pdf"


def sign_in_settled(page: Page, user: Any) -> None:
    """Sign in, then let the dashboard's deferred widgets and the header's unread count finish.

    The first of them creates the webmail's SSO client; the test database (SQLite in memory,
    shared cache) refuses a second writer at once ("database table is locked") instead of
    waiting, so a page opened meanwhile would answer 503. A deployment's database waits.
    """
    sign_in(page, user)
    page.wait_for_load_state("networkidle")


def folders(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Dossiers")


def open_mail(page: Page) -> None:
    """From the dashboard, « Messagerie » in the header, to the inbox."""
    page.locator("#header-link-mail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Boîte de réception")


def open_message(page: Page, subject: str) -> None:
    # An unread message's link starts with « Non lu : » for screen readers.
    page.get_by_role("link", name=re.compile(f"^(Non lu : )?{re.escape(subject)}$")).click()
    # A message's own HTML may hold headings too: the page's title is the first.
    expect(page.get_by_role("heading", level=1).first).to_have_text(subject)


def test_a_teacher_answers_her_head_of_school_with_an_attachment(
    new_page: NewPage,
    teacher: Any,
    head_of_school: Any,
    browser_errors: list[str],
) -> None:
    page = new_page()
    sign_in_settled(page, teacher)
    open_mail(page)
    open_message(page, HEAD_SUBJECT)
    expect(page.get_by_text("Philippe Girard <philippe.girard@ac-besancon.fr>")).to_be_visible()
    expect(page.get_by_text("Le conseil pédagogique se réunira jeudi")).to_be_visible()

    page.get_by_role("link", name="Répondre", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Écrire un message")
    expect(page.get_by_label("À", exact=True)).to_have_value(re.compile(head_of_school.email))
    expect(page.get_by_label("Objet", exact=True)).to_have_value(ANSWER_SUBJECT)
    text = page.get_by_label("Message", exact=True)
    expect(text).to_have_value(re.compile("a écrit :"))
    text.fill(f"Bonjour,\n\n{ANSWER_LINE}\n\n{text.input_value()}")
    page.get_by_label(re.compile(r"^Pièces jointes")).set_input_files(
        {"name": ATTACHMENT, "mimeType": "application/pdf", "buffer": minimal_pdf("Progression")}
    )
    page.get_by_role("button", name="Envoyer", exact=True).click()
    expect(page.get_by_text("Message envoyé.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Boîte de réception")

    # In « Envoyés », newest first: her answer above the one the demo seeded.
    folders(page).get_by_role("link", name=re.compile(r"^Envoyés")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Envoyés")
    answers = page.get_by_role("link", name=ANSWER_SUBJECT, exact=True)
    expect(answers).to_have_count(2)
    answers.first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ANSWER_SUBJECT)
    expect(page.get_by_text(ANSWER_LINE)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(re.escape(ATTACHMENT)))).to_be_visible()

    # The advanced search, by a word of her line, in the message text.
    page.get_by_role("link", name="Revenir au dossier").click()
    page.get_by_role("link", name="Recherche avancée").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rechercher dans la messagerie")
    page.get_by_label("Dans le texte du message").fill(SEARCHED_WORD)
    page.get_by_role("main").get_by_role("button", name="Rechercher", exact=True).click()
    expect(page.get_by_role("heading", name="Résultats")).to_be_visible()
    found = page.get_by_role("table", name="Messages trouvés").get_by_role("link")
    expect(found).to_have_count(1)
    expect(found).to_have_text(ANSWER_SUBJECT)
    found.click()
    expect(page.get_by_text(ANSWER_LINE)).to_be_visible()
    assert browser_errors == []

    # Philippe Girard, in his own browser, has it with the PDF.
    head = new_page()
    sign_in_settled(head, head_of_school)
    open_mail(head)
    open_message(head, ANSWER_SUBJECT)
    expect(head.get_by_text("Sophie Bernard <sophie.bernard@ac-besancon.fr>")).to_be_visible()
    expect(head.get_by_text(ANSWER_LINE)).to_be_visible()
    expect(head.get_by_role("link", name=re.compile(re.escape(ATTACHMENT)))).to_be_visible()
    assert browser_errors == []


def test_nothing_is_loaded_from_elsewhere_and_a_phishing_link_shows_its_real_domain(
    new_page: NewPage,
    teacher: Any,
    live_server: Any,
    browser_errors: list[str],
) -> None:
    page = new_page()
    sign_in_settled(page, teacher)
    requested: list[str] = []

    def record(request: Request) -> None:
        if request.url.startswith(("http:", "https:", "ws:", "wss:")):
            requested.append(request.url)

    page.on("request", record)
    open_mail(page)
    open_message(page, PHISHING_SUBJECT)
    body = page.locator(".cv-mail-body")
    expect(body).to_contain_text("messagerie.ac-besancon.fr/validation")
    expect(body).to_contain_text("[domaine réel : secure-login.info]")
    # The real target is also the link's title, shown on hover.
    expect(body.get_by_role("link", name=re.compile("validation"))).to_have_attribute(
        "title", re.compile(f"^https://{re.escape(PHISHING_DOMAIN)}/")
    )

    # The newsletter's banner and tracking pixel stay blocked until Sophie allows them.
    page.get_by_role("link", name="Revenir au dossier").click()
    open_message(page, NEWSLETTER_SUBJECT)
    expect(
        page.get_by_text("2 images distantes ne sont pas affichées", exact=False)
    ).to_be_visible()
    page.wait_for_load_state("networkidle")

    ours = urlsplit(live_server.url).netloc
    elsewhere = [url for url in requested if urlsplit(url).netloc != ours]
    assert elsewhere == []
    assert len(requested) > 3  # the recorder did see the pages and their files
    assert browser_errors == []


def _mail_pages(page: Page) -> None:
    """Inbox, a message, the compose page, the search page with results, the devices page and
    the iPhone set-up page, each checked by axe."""
    page.goto("/messagerie/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Boîte de réception")
    assert_no_serious_violations(page)
    open_message(page, HEAD_SUBJECT)
    assert_no_serious_violations(page)
    page.get_by_role("link", name="Répondre", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Écrire un message")
    assert_no_serious_violations(page)
    page.goto("/messagerie/recherche/?dossier=INBOX&corps=conseil")
    expect(page.get_by_role("heading", name="Résultats")).to_be_visible()
    assert_no_serious_violations(page)
    page.goto("/messagerie/appareils/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Téléphones et logiciels de messagerie"
    )
    assert_no_serious_violations(page)
    page.goto("/messagerie/appareils/iphone/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("iPhone")
    assert_no_serious_violations(page)


def test_mail_pages_have_no_serious_accessibility_violation(
    new_page: NewPage, teacher: Any, browser_errors: list[str]
) -> None:
    page = new_page()
    sign_in_settled(page, teacher)
    _mail_pages(page)
    assert browser_errors == []


def test_mail_pages_in_dark_mode_have_no_serious_accessibility_violation(
    new_page: NewPage, teacher: Any, browser_errors: list[str]
) -> None:
    page = new_page(color_scheme="dark")
    sign_in_settled(page, teacher)
    expect(page.locator("html")).to_have_attribute("data-fr-theme", "dark")
    _mail_pages(page)
    assert browser_errors == []


def test_the_inbox_does_not_scroll_sideways_on_a_phone(
    new_page: NewPage, teacher: Any, browser_errors: list[str]
) -> None:
    page = new_page(viewport=PHONE_VIEWPORT)
    sign_in_settled(page, teacher)
    page.goto("/messagerie/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Boîte de réception")
    expect(page.get_by_role("link", name=HEAD_SUBJECT, exact=True)).to_be_visible()
    overflow = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1] + 1, f"scrollWidth {overflow[0]} > innerWidth {overflow[1]}"
    assert browser_errors == []
