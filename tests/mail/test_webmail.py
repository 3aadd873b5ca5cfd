"""The webmail against a real Dovecot: folders, the list, reading, actions, search, the
connection pool, and the server being down (one box degraded, never the portal)."""

from __future__ import annotations

import datetime
import email.message
import email.policy
import email.utils
import time
from collections.abc import Iterator
from typing import Any

import imapclient
import pytest
from django.test import Client
from django.urls import reverse

from convergence.audit.models import AuditEvent
from convergence.mail import connections
from convergence.mail.connections import MailRefused
from convergence.sso.actions import issue_first_party_token
from deploy.mail.dovecot import Dovecot, free_port
from tests.helpers import client_of, text_of
from tests.mail.dovecot import dovecot, dovecot_instance  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def _message(
    subject: str,
    *,
    sender: str = "Philippe Girard <philippe.girard@ac-besancon.fr>",
    to: str = "sophie.bernard@ac-besancon.fr",
    text: str = "Bonjour,\n\nMerci de votre retour.\n",
    html: str | None = None,
    attachment: tuple[str, bytes, str] | None = None,
    days_ago: int = 0,
) -> bytes:
    message = email.message.EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    when = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days_ago)
    message["Date"] = email.utils.format_datetime(when)
    message["Message-ID"] = email.utils.make_msgid(domain="ac-besancon.fr")
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    if attachment is not None:
        name, data, kind = attachment
        maintype, subtype = kind.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


class Mailbox:
    """A test's own IMAP session as the person, to put mail in and look at it."""

    def __init__(self, server: Dovecot, person: Any) -> None:
        token, _ = issue_first_party_token(
            user=person, client_id="tests", name="Tests", scope="mail", seconds=600
        )
        self.client = imapclient.IMAPClient(
            "127.0.0.1", port=server.imap_port, ssl=False, timeout=5
        )
        self.client.oauth2_login(person.login, token)

    def append(self, raw: bytes, folder: str = "INBOX", flags: tuple[bytes, ...] = ()) -> None:
        self.client.append(folder, raw, flags=flags)

    def flags(self, folder: str = "INBOX") -> list[set[bytes]]:
        self.client.select_folder(folder, readonly=True)
        fetched = self.client.fetch(self.client.search(["ALL"]), ["FLAGS"])
        self.client.unselect_folder()
        return [set(data[b"FLAGS"]) for _, data in sorted(fetched.items())]

    def uids(self, folder: str = "INBOX") -> list[int]:
        self.client.select_folder(folder, readonly=True)
        found = sorted(self.client.search(["ALL"]))
        self.client.unselect_folder()
        return found

    def empty(self) -> None:
        """Start from an empty mailbox with the usual folders (one Dovecot per module)."""
        for _flags, _delimiter, name in self.client.list_folders():
            if name not in ("INBOX", "Sent", "Drafts", "Trash", "Archive"):
                self.client.delete_folder(name)
        for folder in ("INBOX", "Sent", "Drafts", "Trash", "Archive"):
            if not self.client.folder_exists(folder):
                self.client.create_folder(folder)
            self.client.select_folder(folder)
            uids = self.client.search(["ALL"])
            if uids:
                self.client.add_flags(uids, [b"\\Deleted"], silent=True)
                self.client.expunge()
            self.client.unselect_folder()

    def count(self, folder: str) -> int:
        found = int(self.client.select_folder(folder, readonly=True)[b"EXISTS"])
        self.client.unselect_folder()
        return found

    def close(self) -> None:
        self.client.logout()


@pytest.fixture
def imap(dovecot: Dovecot, settings: Any) -> Dovecot:  # noqa: F811
    settings.MAIL_IMAP_HOST = "127.0.0.1"
    settings.MAIL_IMAP_PORT = dovecot.imap_port
    settings.MAIL_IMAP_SECURITY = "none"
    settings.MAIL_TIMEOUT_SECONDS = 3
    return dovecot


@pytest.fixture
def sophie_box(imap: Dovecot, teacher: Any) -> Iterator[Mailbox]:
    box = Mailbox(imap, teacher)
    box.empty()
    yield box
    box.close()


def test_the_inbox_lists_the_newest_first_with_unread_counts(
    teacher: Any, sophie_box: Mailbox
) -> None:
    sophie_box.append(_message("Conseil de classe de 3e B", days_ago=2), flags=(b"\\Seen",))
    sophie_box.append(_message("Sortie au musée de Besançon", days_ago=1))
    page = text_of(client_of(teacher).get(reverse("mail:inbox")))
    assert page.index("Sortie au musée de Besançon") < page.index("Conseil de classe de 3e B")
    assert "1 non lu" in page
    assert "Boîte de réception" in page
    assert "Corbeille" in page  # Trash is named in French


def test_pages_fetch_fifty_at_a_time(teacher: Any, sophie_box: Mailbox, settings: Any) -> None:
    settings.MAIL_PAGE_SIZE = 10
    for n in range(25):
        sophie_box.append(_message(f"Message numéro {n:02d}"))
    browser = client_of(teacher)
    first = text_of(browser.get(reverse("mail:inbox")))
    assert "Message numéro 24" in first and "Message numéro 15" in first
    assert "Message numéro 14" not in first
    assert "Page 1 sur 3" in first
    last = text_of(browser.get(reverse("mail:inbox") + "?dossier=INBOX&page=3"))
    assert "Message numéro 04" in last and "Message numéro 00" in last
    assert "Message numéro 05" not in last


def test_unread_and_flagged_filters_with_and_without_sort(
    teacher: Any, sophie_box: Mailbox, monkeypatch: Any
) -> None:
    sophie_box.append(_message("Déjà lu"), flags=(b"\\Seen",))
    sophie_box.append(_message("À lire"))
    sophie_box.append(_message("Important", text="x"), flags=(b"\\Seen", b"\\Flagged"))
    browser = client_of(teacher)
    unread = text_of(browser.get(reverse("mail:inbox") + "?dossier=INBOX&filtre=unread"))
    assert "À lire" in unread and "Déjà lu" not in unread
    flagged = text_of(browser.get(reverse("mail:inbox") + "?dossier=INBOX&filtre=flagged"))
    assert "Important" in flagged and "À lire" not in flagged
    # A server without SORT (RFC 5256): the fallback reverses a SEARCH.
    real_open = connections._open

    def without_sort(user: Any) -> Any:
        connection = real_open(user)
        connection.capabilities = frozenset(connection.capabilities - {"SORT"})
        return connection

    connections.reset()
    monkeypatch.setattr(connections, "_open", without_sort)
    again = text_of(browser.get(reverse("mail:inbox") + "?dossier=INBOX&filtre=unread"))
    assert "À lire" in again and "Déjà lu" not in again


def test_reading_marks_seen_and_neutralises_hostile_html(teacher: Any, sophie_box: Mailbox) -> None:
    hostile = (
        '<p>Bonjour</p><script>alert(1)</script><svg onload="alert(2)"></svg>'
        '<img src="https://traceur.example/pixel.gif" width="1" height="1">'
        '<a href="javascript:alert(3)">clic</a>'
        '<a href="https://ac-besancon.fr.secure-login.info/valider">'
        "https://messagerie.ac-besancon.fr</a>"
        '<div style="width: expression(alert(4))">style</div>'
    )
    sophie_box.append(
        _message(
            "Votre boîte est pleine",
            sender="Support <support@ac-besancon.fr.secure-login.info>",
            html=hostile,
        )
    )
    browser = client_of(teacher)
    (uid,) = sophie_box.uids()
    page = browser.get(reverse("mail:message", args=[uid]) + "?dossier=INBOX")
    assert page.status_code == 200
    body = page.content.decode()
    for bad in ("<script", "onload", "javascript:", "expression(", "traceur.example"):
        assert bad not in body.split('class="cv-mail-body"')[1].split("</article>")[0], bad
    text = text_of(page)
    assert "secure-login.info" in text  # the link's real domain is shown
    assert "image distante n'est pas affichée" in text
    assert b"\\Seen" in sophie_box.flags()[0]
    assert "https:" not in page["Content-Security-Policy"]
    with_images = browser.get(reverse("mail:message", args=[uid]) + "?dossier=INBOX&images=1")
    assert "traceur.example/pixel.gif" in text_of(with_images)
    # The browser may load them on this page only (the portal's policy allows its own).
    assert "img-src 'self' data: https: http:" in with_images["Content-Security-Policy"]
    assert "script-src 'self'" in with_images["Content-Security-Policy"]


def test_attachments_download_with_a_safe_name_and_type(teacher: Any, sophie_box: Mailbox) -> None:
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    sophie_box.append(
        _message(
            "Compte rendu",
            sender="Nadia Haddad <nadia.haddad@ac-besancon.fr>",
            attachment=("Compte rendu réunion.pdf", pdf, "application/pdf"),
        )
    )
    sophie_box.append(
        _message("Page piégée", attachment=("page.html", b"<script>alert(1)</script>", "text/html"))
    )
    browser = client_of(teacher)
    report, trapped = sophie_box.uids()
    page = text_of(browser.get(reverse("mail:message", args=[report]) + "?dossier=INBOX"))
    assert "Compte rendu réunion.pdf" in page
    download = browser.get(reverse("mail:part", args=[report, "2"]) + "?dossier=INBOX")
    assert download.status_code == 200
    assert download.content == pdf
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    trap = browser.get(reverse("mail:part", args=[trapped, "2"]) + "?dossier=INBOX&affichage=1")
    assert trap["Content-Type"] == "application/octet-stream"
    assert trap["Content-Disposition"].startswith("attachment")
    missing = browser.get(reverse("mail:part", args=[report, "9"]) + "?dossier=INBOX")
    assert missing.status_code == 404
    hostile_id = browser.get(reverse("mail:part", args=[report, "0.1"]) + "?dossier=INBOX")
    assert hostile_id.status_code == 404


def test_actions_on_a_selection_flag_move_delete_and_empty_trash(
    teacher: Any, sophie_box: Mailbox
) -> None:
    for n in range(3):
        sophie_box.append(_message(f"Message {n}"))
    browser = client_of(teacher)
    act = reverse("mail:act")
    one, two, three = (str(uid) for uid in sophie_box.uids())
    browser.post(act, {"dossier": "INBOX", "uid": [one, two], "action": "flag"})
    assert [b"\\Flagged" in f for f in sophie_box.flags()] == [True, True, False]
    browser.post(act, {"dossier": "INBOX", "uid": [one], "action": "read"})
    assert b"\\Seen" in sophie_box.flags()[0]
    browser.post(reverse("mail:folders"), {"operation": "create", "nom": "Conseils de classe"})
    assert sophie_box.client.folder_exists("Conseils de classe")
    browser.post(
        act, {"dossier": "INBOX", "uid": [one], "action": "move", "cible": "Conseils de classe"}
    )
    assert sophie_box.count("Conseils de classe") == 1
    browser.post(act, {"dossier": "INBOX", "uid": [two], "action": "delete"})
    assert sophie_box.count("Trash") == 1
    browser.post(act, {"dossier": "INBOX", "uid": [three], "action": "archive"})
    assert sophie_box.count("Archive") == 1
    assert sophie_box.count("INBOX") == 0
    browser.post(reverse("mail:empty_trash"))
    assert sophie_box.count("Trash") == 0
    # A move to a folder that does not exist is refused in French, nothing moves.
    (archived,) = sophie_box.uids("Archive")
    response = browser.post(
        act,
        {"dossier": "Archive", "uid": [str(archived)], "action": "move", "cible": "Nulle part"},
    )
    assert response.status_code == 302
    assert sophie_box.count("Archive") == 1


def test_folder_names_cannot_inject_imap(teacher: Any, sophie_box: Mailbox) -> None:
    browser = client_of(teacher)
    response = browser.post(
        reverse("mail:folders"),
        {"operation": "create", "nom": 'x"\r\nA1 DELETE INBOX'},
        follow=True,
    )
    assert "ne peut contenir" in text_of(response)
    assert sophie_box.client.folder_exists("INBOX")


def test_search_on_the_server(teacher: Any, sophie_box: Mailbox) -> None:
    sophie_box.append(_message("Réunion parents-professeurs", text="Salle 12 à 18 h", days_ago=3))
    sophie_box.append(
        _message("Cantine", sender="Rectorat <ce.rectorat@ac-besancon.fr>", text="Menus")
    )
    browser = client_of(teacher)
    by_sender = text_of(browser.get(reverse("mail:search") + "?dossier=INBOX&de=rectorat"))
    assert "Cantine" in by_sender and "Réunion parents-professeurs" not in by_sender
    by_body = text_of(browser.get(reverse("mail:search") + "?dossier=INBOX&corps=Salle+12"))
    assert "Réunion parents-professeurs" in by_body and "Cantine" not in by_body
    nothing = text_of(browser.get(reverse("mail:search") + "?dossier=INBOX&q=introuvable"))
    assert "Aucun message ne correspond" in nothing
    empty = text_of(browser.get(reverse("mail:search") + "?dossier=INBOX&de="))
    assert "Indiquez au moins un critère" in empty


def test_one_connection_per_person_reused_and_never_shared(
    teacher: Any, cpe: Any, imap: Dovecot
) -> None:
    sophie, nadia = client_of(teacher), client_of(cpe)
    assert sophie.get(reverse("mail:inbox")).status_code == 200
    assert sophie.get(reverse("mail:inbox")).status_code == 200
    assert connections.stats() == {"idle": 1, "busy": 0, "people": 1}
    assert nadia.get(reverse("mail:inbox")).status_code == 200
    assert connections.stats() == {"idle": 2, "busy": 0, "people": 2}


def test_signing_out_ends_the_webmail_token(teacher: Any, imap: Dovecot) -> None:
    browser = client_of(teacher)
    assert browser.get(reverse("mail:inbox")).status_code == 200
    browser.post(reverse("account_logout"))
    assert connections.stats()["people"] == 0
    from oauth2_provider.models import AccessToken

    assert not AccessToken.objects.filter(
        user=teacher, application__client_id="convergence-webmail"
    ).exists()


def test_a_refused_token_shows_the_unavailable_page(teacher: Any, imap: Dovecot) -> None:
    def refuse(user: Any) -> Any:
        raise MailRefused("refused")

    original = connections._open
    connections._open = refuse  # type: ignore[assignment]
    try:
        response = client_of(teacher).get(reverse("mail:inbox"))
    finally:
        connections._open = original  # type: ignore[assignment]
    assert response.status_code == 503


def test_the_server_down_degrades_the_mail_pages_only(
    teacher: Any, settings: Any, db: None
) -> None:
    settings.MAIL_IMAP_PORT = free_port()  # nothing listens there
    settings.MAIL_TIMEOUT_SECONDS = 1
    browser = client_of(teacher)
    failures_before = AuditEvent.objects.filter(event_type__contains="failed").count()
    response = browser.get(reverse("mail:inbox"))
    assert response.status_code == 503
    assert response["Retry-After"]
    page = text_of(response)
    assert "Messagerie momentanément indisponible" in page
    assert reverse("status:page") in page
    assert browser.get(reverse("portal:dashboard")).status_code == 200
    widget = browser.get(reverse("widget", args=["mail"]))
    assert widget.status_code == 200
    assert "indisponible" in text_of(widget)
    assert AuditEvent.objects.filter(event_type__contains="failed").count() == failures_before


def test_the_dashboard_widget_shows_unread_and_latest(teacher: Any, sophie_box: Mailbox) -> None:
    for n in range(7):
        sophie_box.append(_message(f"Note de service {n}"))
    widget = text_of(client_of(teacher).get(reverse("widget", args=["mail"])))
    assert "7 messages non lus" in widget
    assert "Note de service 6" in widget and "Note de service 1" not in widget


def test_a_parent_has_no_webmail(parent: Any) -> None:
    assert client_of(parent).get(reverse("mail:inbox")).status_code == 403
    assert Client().get(reverse("mail:inbox")).status_code == 302


def test_a_revoked_token_is_refused_in_one_round_trip(
    teacher: Any, imap: Dovecot, settings: Any
) -> None:
    from oauth2_provider.models import AccessToken

    browser = client_of(teacher)
    assert browser.get(reverse("mail:inbox")).status_code == 200
    known = connections._POOL.tokens[teacher.pk]
    connections.reset()
    connections._POOL.tokens[teacher.pk] = known  # as if the idle connection had closed
    AccessToken.objects.filter(user=teacher).delete()  # revoked (sign-out elsewhere…)
    started = time.monotonic()
    with pytest.raises(MailRefused):
        connections._open(teacher)
    # Not the socket timeout: Dovecot's NO arrived and was read.
    assert time.monotonic() - started < 2.5
    # The refused token is forgotten: the next page logs in with a new one, at once (no
    # failure penalty on the portal's logins: deploy/mail/dovecot/listeners/).
    started = time.monotonic()
    assert browser.get(reverse("mail:inbox")).status_code == 200
    assert time.monotonic() - started < 2.5


def test_the_header_shows_the_unread_count_after_the_page(
    teacher: Any, parent: Any, sophie_box: Mailbox
) -> None:
    sophie_box.append(_message("Nouveau"))
    browser = client_of(teacher)
    page = browser.get(reverse("portal:dashboard")).content.decode()
    assert 'id="header-link-mail"' in page
    assert f'hx-get="{reverse("mail:unread_badge")}"' in page
    badge = text_of(browser.get(reverse("mail:unread_badge")))
    assert "1" in badge and "message non lu" in badge
    # Reading it clears the badge at once (the count is cached a minute otherwise).
    (uid,) = sophie_box.uids()
    browser.get(reverse("mail:message", args=[uid]) + "?dossier=INBOX")
    assert browser.get(reverse("mail:unread_badge")).content == b""
    # A parent has no mailbox: no link in the header.
    assert 'id="header-link-mail"' not in client_of(parent).get("/").content.decode()


def test_the_header_badge_is_silent_when_the_server_is_down(teacher: Any, settings: Any) -> None:
    settings.MAIL_IMAP_PORT = free_port()
    settings.MAIL_TIMEOUT_SECONDS = 1
    response = client_of(teacher).get(reverse("mail:unread_badge"))
    assert response.status_code == 200
    assert response.content == b""


def _in_thread(subject: str, number: int, *, previous: list[str]) -> bytes:
    raw = _message(subject if number == 0 else f"Re: {subject}", text=f"Message {number}")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    if previous:
        parsed["In-Reply-To"] = previous[-1]
        parsed["References"] = " ".join(previous)
    previous.append(str(parsed["Message-ID"]))
    return parsed.as_bytes()


def test_conversations_group_a_thread_where_the_server_threads(
    teacher: Any, sophie_box: Mailbox
) -> None:
    chain: list[str] = []
    for n in range(4):
        sophie_box.append(_in_thread("Sortie au musée du Temps", n, previous=chain))
    sophie_box.append(_message("Seul dans sa conversation"))
    browser = client_of(teacher)
    plain = text_of(browser.get(reverse("mail:inbox")))
    assert "Par conversation" in plain  # Dovecot has THREAD=REFERENCES
    grouped = text_of(browser.get(reverse("mail:inbox") + "?dossier=INBOX&vue=conversations"))
    assert grouped.count("Sortie au musée du Temps") == 1
    assert "4 messages" in grouped
    assert "Seul dans sa conversation" in grouped


def test_a_pooled_connection_sees_what_arrived_since_its_last_page(
    teacher: Any, sophie_box: Mailbox
) -> None:
    """The pooled connection keeps the folder open between pages (no new SELECT): mail that
    arrived, and mail another client deleted, show on the next page all the same."""
    sophie_box.append(_message("Premier"))
    browser = client_of(teacher)
    assert "Premier" in text_of(browser.get(reverse("mail:inbox")))
    sophie_box.append(_message("Arrivé entre deux pages"))
    page = text_of(browser.get(reverse("mail:inbox")))
    assert "Arrivé entre deux pages" in page and "2 messages" in page
    first = sophie_box.uids()[0]
    sophie_box.client.select_folder("INBOX")
    sophie_box.client.add_flags([first], [b"\\Deleted"], silent=True)
    sophie_box.client.expunge()
    sophie_box.client.unselect_folder()
    page = text_of(browser.get(reverse("mail:inbox")))
    assert "Premier" not in page and "1 message" in page
