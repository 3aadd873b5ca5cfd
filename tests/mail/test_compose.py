"""Writing mail, against the demo's embedded servers (pymap IMAP without SORT, aiosmtpd
submission): a teacher reads her head of school's message, answers with an attachment, finds
the answer in Sent and by search; drafts; header injection; the attachment limit; the server
being down with the text kept."""

from __future__ import annotations

import email
import email.policy
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from imapclient import IMAPClient

from convergence.audit.models import AuditEvent
from convergence.mail import compose
from convergence.sso.actions import issue_first_party_token
from demo.mail.servers import MailServers
from deploy.mail.dovecot import free_port
from tests.helpers import client_of, text_of

pytestmark = pytest.mark.django_db(transaction=True)
DOMAIN = "ac-besancon.fr"
HEAD_SUBJECT = "Conseil pédagogique du jeudi — ordre du jour"


@pytest.fixture
def servers(demo_mail_servers: MailServers) -> MailServers:
    return demo_mail_servers


def _imap(servers: MailServers, person: Any) -> IMAPClient:
    token, _ = issue_first_party_token(
        user=person, client_id="tests", name="Tests", scope="mail", seconds=600
    )
    client = IMAPClient("127.0.0.1", port=servers.ports.imap, ssl=False, timeout=10)
    client.oauth2_login(person.login, token)
    return client


def _uid_of(client: IMAPClient, folder: str, subject: str) -> int:
    client.select_folder(folder, readonly=True)
    for uid, data in client.fetch(client.search(["ALL"]), ["ENVELOPE"]).items():
        found = data[b"ENVELOPE"].subject
        if (
            found
            and subject
            in email.header.make_header(email.header.decode_header(found.decode())).__str__()
        ):
            return int(uid)
    raise AssertionError(f"{subject!r} not in {folder}")


def _messages(client: IMAPClient, folder: str) -> list[email.message.EmailMessage]:
    client.select_folder(folder, readonly=True)
    fetched = client.fetch(client.search(["ALL"]), ["BODY.PEEK[]"])
    return [
        email.message_from_bytes(data[b"BODY[]"], policy=email.policy.default)  # type: ignore[misc]
        for data in fetched.values()
    ]


def test_a_teacher_answers_her_head_of_school_with_an_attachment(
    teacher: Any, head_of_school: Any, servers: MailServers
) -> None:
    browser = client_of(teacher)
    inbox = text_of(browser.get(reverse("mail:inbox")))
    assert HEAD_SUBJECT in inbox  # the demo server has no SORT: the fallbacks serve it
    mine = _imap(servers, teacher)
    uid = _uid_of(mine, "INBOX", HEAD_SUBJECT)
    page = text_of(browser.get(reverse("mail:message", args=[uid]) + "?dossier=INBOX"))
    assert "Répondre" in page
    form = browser.get(reverse("mail:write") + f"?dossier=INBOX&repondre={uid}")
    initial = form.context["form"].initial
    assert head_of_school.email in initial["a"]
    assert initial["objet"].startswith("Re:")
    assert "a écrit :" in initial["texte"]
    response = browser.post(
        reverse("mail:write"),
        {
            **{k: v for k, v in initial.items() if v is not None},
            "texte": "Bonjour,\n\nJe serai présente jeudi.\n\n" + initial["texte"],
            "pieces": SimpleUploadedFile(
                "progression 4e.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"
            ),
            "action": "envoyer",
        },
    )
    assert response.status_code == 302, text_of(response)
    # Delivered to the head of school, with the attachment and the thread's headers.
    theirs = _imap(servers, head_of_school)
    received = [m for m in _messages(theirs, "INBOX") if m["Subject"].startswith("Re: Conseil")]
    answer = next(m for m in received if m["From"].addresses[0].addr_spec == teacher.email)
    assert answer["In-Reply-To"]
    assert [p.get_filename() for p in answer.iter_attachments()] == ["progression 4e.pdf"]
    # A copy in Sent, the original marked answered, the send audited without addresses.
    mine.noop()
    assert any(
        "Je serai présente" in m.get_body(("plain",)).get_content() for m in _messages(mine, "Sent")
    )
    mine.select_folder("INBOX", readonly=True)
    assert b"\\Answered" in mine.get_flags([uid])[uid]
    event = AuditEvent.objects.get(event_type="mail.message_sent", actor=teacher)
    assert event.data == {"recipients": 1, "attachments": 1}
    # Found again by the webmail's search, in Sent.
    found = text_of(browser.get(reverse("mail:search") + "?dossier=Sent&corps=serai"))
    assert "Re: Conseil pédagogique" in found


def test_a_draft_is_saved_reopened_and_replaced_then_sent(
    teacher: Any, cpe: Any, servers: MailServers
) -> None:
    browser = client_of(teacher)
    saved = browser.post(
        reverse("mail:write"),
        {
            "a": cpe.email,
            "objet": "Sortie du 12",
            "texte": "Première version",
            "action": "brouillon",
        },
        HTTP_HX_REQUEST="true",
    )
    assert "Brouillon enregistré" in text_of(saved)
    mine = _imap(servers, teacher)
    (first,) = mine.select_folder("Drafts") and mine.search(["ALL"])
    reopened = browser.get(reverse("mail:write") + f"?brouillon={first}")
    assert reopened.context["form"].initial["texte"].strip() == "Première version"
    browser.post(
        reverse("mail:write"),
        {
            "a": cpe.email,
            "objet": "Sortie du 12",
            "texte": "Version finale",
            "brouillon_uid": first,
            "action": "envoyer",
        },
    )
    mine.noop()
    mine.select_folder("Drafts")
    assert mine.search(["ALL"]) == []  # the draft left with the message


def test_header_injection_is_impossible(teacher: Any) -> None:
    draft = compose.Draft(to=["a@ac-besancon.fr"], subject="Bonjour\r\nBcc: tous@exemple.fr")
    with pytest.raises(compose.ComposeError, match="retour à la ligne"):
        compose.build(teacher, draft)
    with pytest.raises(compose.ComposeError):
        compose.parse_addresses("a@ac-besancon.fr\r\nBcc: b@exemple.fr")
    with pytest.raises(compose.ComposeError, match="n'est pas une adresse"):
        compose.parse_addresses("pas une adresse")
    built = compose.build(
        teacher, compose.Draft(to=["Élodie <e@ac-besancon.fr>"], cc=[], bcc=["x@ac-besancon.fr"])
    )
    assert "Bcc" not in built  # a blind copy never travels with the message
    assert b"\r\n" in compose.as_bytes(built)


def test_a_pupil_without_an_email_writes_from_her_mailbox_address(pupil: Any) -> None:
    """A pupil's portal account often has no e-mail: she writes from ``login@domain``, the
    address the mail relay gives every mailbox (it was an IndexError, a 500)."""
    pupil.email = ""
    built = compose.build(pupil, compose.Draft(to=["a@ac-besancon.fr"], subject="Devoir"))
    assert built["From"].addresses[0].addr_spec == f"{pupil.login}@ac-besancon.fr"
    assert str(built["Message-ID"]).endswith("@ac-besancon.fr>")


def test_an_oversized_attachment_is_refused_and_the_text_kept(
    pupil: Any, settings: Any, servers: MailServers
) -> None:
    settings.MAIL_ATTACHMENT_MAX_MB_PUPIL = 1
    response = client_of(pupil).post(
        reverse("mail:write"),
        {
            "a": "sophie.bernard@ac-besancon.fr",
            "objet": "Devoir",
            "texte": "Voici mon devoir, madame.",
            "pieces": SimpleUploadedFile("devoir.pdf", b"x" * (1024 * 1024 + 1), "application/pdf"),
            "action": "envoyer",
        },
    )
    assert response.status_code == 400
    page = text_of(response)
    assert "limite de votre compte (1 Mo par message)" in page
    assert "Voici mon devoir, madame." in page
    assert not AuditEvent.objects.filter(event_type="mail.message_sent").exists()


def test_the_submission_server_down_keeps_the_text(teacher: Any, settings: Any) -> None:
    settings.MAIL_SUBMISSION_PORT = free_port()
    settings.MAIL_TIMEOUT_SECONDS = 1
    response = client_of(teacher).post(
        reverse("mail:write"),
        {
            "a": "philippe.girard@ac-besancon.fr",
            "objet": "Test",
            "texte": "Mon texte",
            "action": "envoyer",
        },
    )
    assert response.status_code == 503
    assert response["Retry-After"]
    page = text_of(response)
    assert "le message n'est pas parti" in page and "Mon texte" in page


def test_sending_is_limited_per_hour(teacher: Any, settings: Any, servers: MailServers) -> None:
    settings.MAIL_SEND_PER_HOUR = 2
    browser = client_of(teacher)
    statuses = [
        browser.post(
            reverse("mail:write"),
            {
                "a": "philippe.girard@ac-besancon.fr",
                "objet": f"n° {n}",
                "texte": "x",
                "action": "envoyer",
            },
        ).status_code
        for n in range(3)
    ]
    assert statuses == [302, 302, 429]


def test_the_colleagues_pdf_downloads_from_the_demo_server(
    teacher: Any, servers: MailServers
) -> None:
    mine = _imap(servers, teacher)
    uid = _uid_of(mine, "INBOX", "Progression commune de 4e")
    browser = client_of(teacher)
    page = browser.get(reverse("mail:message", args=[uid]) + "?dossier=INBOX")
    attachment = next(a for a in page.context["message"].attachments if not a.inline)
    download = browser.get(reverse("mail:part", args=[uid, attachment.part_id]) + "?dossier=INBOX")
    assert download.status_code == 200
    assert download.content.startswith(b"%PDF-")
    assert download["Content-Disposition"].startswith("attachment")


def test_the_demo_phishing_is_flagged_and_the_head_of_school_is_not(
    teacher: Any, servers: MailServers
) -> None:
    mine = _imap(servers, teacher)
    browser = client_of(teacher)
    phishing = _uid_of(mine, "INBOX", "Votre boîte aux lettres est pleine")
    page = browser.get(reverse("mail:message", args=[phishing]) + "?dossier=INBOX")
    assert 'id="mail-phishing-warning"' in page.content.decode()
    assert "secure-login.info" in text_of(page)
    head = _uid_of(mine, "INBOX", HEAD_SUBJECT)
    body = browser.get(reverse("mail:message", args=[head]) + "?dossier=INBOX").content.decode()
    assert 'id="mail-phishing-warning"' not in body
    assert 'id="mail-external-notice"' not in body
