"""Mail rules in a browser, as the issue tells it: Sophie Bernard (teacher) turns on « Ne suivre
que les messages de mon chef d'établissement »; her head of school's next message lands in her
inbox with a notice, a newsletter in « Autres ». Then she sets a vacation reply and the inbox
says it is on. axe-core finds nothing serious on the rules and vacation pages.

The mail servers are the demo's (pymap, aiosmtpd, the demo's Sieve step at delivery), seeded,
on free ports; the messages are submitted over SMTP as their senders, with their tokens.
"""

from __future__ import annotations

import re
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from convergence.sso.actions.tokens import issue_first_party_token
from demo.mail.servers import MailServers

from .conftest import PHONE_VIEWPORT, NewPage
from .mail_servers import mail_servers  # noqa: F401
from .test_accessibility import assert_no_serious_violations
from .test_mail_journey import folders, sign_in_settled

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.usefixtures("mail_servers"),
]

TEMPLATE = "Ne suivre que les messages de mon chef d'établissement"
FROM_HEAD = "Réunion parents-professeurs : planning"
NEWSLETTER = "La lettre de la vie scolaire — décembre"


def submit(servers: MailServers, sender: Any, to: str, subject: str, **headers: str) -> None:
    token, _expires = issue_first_party_token(
        user=sender,
        client_id=settings.MAIL_WEBMAIL_CLIENT_ID,
        name="Tests",
        scope="mail",
        seconds=300,
    )
    built = EmailMessage()
    built["From"] = sender.email
    built["To"] = to
    built["Subject"] = subject
    built["Message-ID"] = make_msgid(domain="ac-besancon.fr")
    for name, value in headers.items():
        built[name.replace("_", "-")] = value
    built.set_content("Bonjour,\n\nÀ lire avant jeudi.\n")
    with smtplib.SMTP("127.0.0.1", servers.ports.submission, timeout=10) as smtp:
        smtp.ehlo()
        smtp.auth(
            "XOAUTH2",
            lambda _challenge=None: f"user={sender.login}\x01auth=Bearer {token}\x01\x01",
        )
        smtp.send_message(built)


def open_folder(page: Page, name: str) -> None:
    folders(page).get_by_role("link", name=re.compile(f"^{re.escape(name)}")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def test_a_teacher_follows_only_her_head_of_school(
    new_page: NewPage,
    teacher: Any,
    head_of_school: Any,
    cpe: Any,
    mail_servers: MailServers,  # noqa: F811
    browser_errors: list[str],
) -> None:
    page = new_page()
    sign_in_settled(page, teacher)
    page.locator("#header-link-mail").click()
    folders(page).get_by_role("link", name="Règles de tri").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Règles de tri")
    assert_no_serious_violations(page)
    page.get_by_role("button", name=f"Appliquer ce modèle : {TEMPLATE}").click()
    rules = page.get_by_role("heading", level=2)
    expect(rules.filter(has_text="Messages de ma direction")).to_be_visible()
    expect(rules.filter(has_text="Tous les autres messages")).to_be_visible()

    submit(mail_servers, head_of_school, teacher.email, FROM_HEAD)
    submit(mail_servers, cpe, teacher.email, NEWSLETTER, List_Unsubscribe="<mailto:stop@x.fr>")

    page.locator("#header-link-mail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Boîte de réception")
    notice = page.get_by_role("region", name="Messages que vos règles vous signalent")
    expect(notice).to_contain_text(FROM_HEAD)
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name=re.compile(re.escape(FROM_HEAD)))).to_be_visible()
    expect(main.get_by_role("link", name=re.compile(re.escape(NEWSLETTER)))).to_have_count(0)
    open_folder(page, "Autres")
    expect(main.get_by_role("link", name=re.compile(re.escape(NEWSLETTER)))).to_be_visible()
    assert browser_errors == []


def test_a_teacher_sets_her_vacation_reply(
    new_page: NewPage, teacher: Any, browser_errors: list[str]
) -> None:
    page = new_page()
    sign_in_settled(page, teacher)
    page.locator("#header-link-mail").click()
    folders(page).get_by_role("link", name="Réponse automatique d'absence").click()
    assert_no_serious_violations(page)
    page.get_by_label("Objet de la réponse").fill("Absente jusqu'au 4 janvier")
    page.get_by_label("Texte de la réponse").fill(
        "Bonjour,\n\nJe lirai votre message à mon retour."
    )
    page.get_by_role("button", name=re.compile("^Enregistrer")).click()
    page.locator("#header-link-mail").click()
    expect(page.get_by_text("Réponse automatique d'absence active")).to_be_visible()
    assert browser_errors == []


def test_the_address_book_and_the_dsi_mail_pages_are_readable(
    new_page: NewPage, teacher: Any, dsi: Any, browser_errors: list[str]
) -> None:
    """The address book (its directory search too), and the DSI's phishing campaigns and
    sending limits: axe finds nothing serious, and nothing scrolls sideways on a phone."""
    page = new_page()
    sign_in_settled(page, teacher)
    page.goto("/messagerie/contacts/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_no_serious_violations(page)
    page.get_by_role("main").get_by_role("textbox").first.fill("gir")
    page.get_by_role("main").get_by_role("textbox").first.press("Enter")
    expect(page.get_by_text("Philippe Girard").first).to_be_visible()
    assert_no_serious_violations(page)

    office = new_page()
    sign_in_settled(office, dsi)
    for path in ("/messagerie/hameconnage/", "/messagerie/envois/"):
        office.goto(path)
        expect(office.get_by_role("heading", level=1)).to_be_visible()
        assert_no_serious_violations(office)
    phone = new_page(viewport=PHONE_VIEWPORT)
    sign_in_settled(phone, teacher)
    phone.goto("/messagerie/contacts/")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_VIEWPORT["width"]
    assert browser_errors == []
