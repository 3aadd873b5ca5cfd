# ruff: noqa: F811 - the fixtures imported below are test arguments of the same name
"""The académie's Postfix, configured from deploy/mail/postfix/, is the submission server:
every login goes to Dovecot's auth service and so to the portal (app passwords and the
webmail's tokens alike), a person sends only as her own addresses, nothing is relayed
without a login, and mail for the domain is delivered to Dovecot over LMTP."""

from __future__ import annotations

import base64
import smtplib
import time
from email.header import decode_header, make_header
from email.message import EmailMessage
from typing import Any

import pytest
from django.conf import settings
from imapclient import IMAPClient

from convergence.mail.actions import create_app_password, revoke_app_password
from convergence.sso.actions.tokens import issue_first_party_token
from deploy.mail.dovecot import Dovecot
from deploy.mail.postfix import MESSAGE_SIZE_LIMIT, Mailbox, Postfix, address_tables
from tests.mail.dovecot import dovecot, dovecot_instance  # noqa: F401 - fixtures
from tests.mail.postfix import postfix, postfix_instance  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 12  # Dovecot may take ~4 s to introspect again after a refusal (docs/mail.md)
DELIVERY_SECONDS = 15


def webmail_token(person: Any) -> str:
    token, _expires = issue_first_party_token(
        user=person,
        client_id=settings.MAIL_WEBMAIL_CLIENT_ID,
        name="Messagerie",
        scope="mail",
        seconds=300,
    )
    return token


def address(local_part: str) -> str:
    return f"{local_part}@{settings.MAIL_DOMAIN}"


def message(sender: str, recipient: str, subject: str, body: str = "Bonjour,\n") -> EmailMessage:
    built = EmailMessage()
    built["From"] = sender
    built["To"] = recipient
    built["Subject"] = subject
    built.set_content(body)
    return built


def submission(server: Postfix) -> smtplib.SMTP:
    connection = smtplib.SMTP("127.0.0.1", server.submission_port, timeout=TIMEOUT)
    connection.ehlo("poste-de-sophie")
    return connection


def xoauth2(connection: smtplib.SMTP, login: str, token: str) -> None:
    """AUTH XOAUTH2; on a refusal the server's challenge is answered with an empty line."""
    initial = f"user={login}\x01auth=Bearer {token}\x01\x01"
    answers = iter([initial, ""])
    connection.auth("XOAUTH2", lambda challenge=None: next(answers))


def subjects_received(dovecot: Dovecot, person: Any, subject: str) -> list[str]:
    """The subjects of the person's messages matching ``subject``, read over IMAP with a
    webmail token, waiting (bounded) for Postfix to deliver."""
    deadline = time.monotonic() + DELIVERY_SECONDS
    with IMAPClient("127.0.0.1", port=dovecot.imap_port, ssl=False, timeout=TIMEOUT) as client:
        client.oauth2_login(person.login, webmail_token(person))
        while True:
            client.select_folder("INBOX", readonly=True)
            found = client.search(["SUBJECT", subject], charset="UTF-8")
            if found or time.monotonic() > deadline:
                break
            client.unselect_folder()
            time.sleep(0.2)
        fetched = client.fetch(found, ["ENVELOPE"]) if found else {}
    return [
        str(make_header(decode_header(data[b"ENVELOPE"].subject.decode())))
        for data in fetched.values()
    ]


def test_app_password_sends_and_the_recipient_reads_it_with_a_token(
    postfix: Postfix, dovecot: Dovecot, teacher: Any, head_of_school: Any
) -> None:
    new = create_app_password(user=teacher, label="Thunderbird du collège", device="thunderbird")
    sent = message(teacher.email, head_of_school.email, "Conseil pédagogique de mardi")

    with submission(postfix) as connection:
        connection.login(teacher.login, new.secret)
        refused = connection.send_message(sent)

    assert refused == {}
    # philippe.girard@… is the portal's address of pgirard: delivered to his mailbox.
    assert subjects_received(dovecot, head_of_school, "Conseil pédagogique") == [
        "Conseil pédagogique de mardi"
    ]


def test_webmail_token_sends_with_xoauth2(postfix: Postfix, dovecot: Dovecot, teacher: Any) -> None:
    own = address(teacher.login)
    with submission(postfix) as connection:
        xoauth2(connection, teacher.login, webmail_token(teacher))
        refused = connection.send_message(message(own, own, "Note pour moi-même"))

    assert refused == {}
    assert subjects_received(dovecot, teacher, "Note pour moi-même") == ["Note pour moi-même"]


def test_token_of_another_person_is_refused(postfix: Postfix, teacher: Any, pupil: Any) -> None:
    with submission(postfix) as connection, pytest.raises(smtplib.SMTPAuthenticationError):
        xoauth2(connection, pupil.login, webmail_token(teacher))


def test_revoked_app_password_is_refused(postfix: Postfix, teacher: Any) -> None:
    new = create_app_password(user=teacher, label="Ancien téléphone", device="android")
    with submission(postfix) as connection:
        connection.login(teacher.login, new.secret)
    revoke_app_password(app_password=new.app_password, actor=teacher)

    with submission(postfix) as connection, pytest.raises(smtplib.SMTPAuthenticationError):
        # PLAIN only: login() would try LOGIN again after the refusal.
        connection.user, connection.password = teacher.login, new.secret
        connection.auth("PLAIN", connection.auth_plain)


@pytest.mark.parametrize("recipient", ["quelqu.un@exemple.org", "sophie.bernard"])
def test_nothing_is_relayed_or_delivered_without_a_login(
    postfix: Postfix, teacher: Any, recipient: str
) -> None:
    if "@" not in recipient:
        recipient = teacher.email
    with submission(postfix) as connection:
        assert connection.mail(teacher.email)[0] == 250
        code, answer = connection.rcpt(recipient)

    assert code == 554
    assert b"Access denied" in answer


def test_person_cannot_send_as_someone_elses_address(
    postfix: Postfix, teacher: Any, head_of_school: Any
) -> None:
    new = create_app_password(user=teacher, label="Thunderbird", device="thunderbird")
    with submission(postfix) as connection:
        connection.login(teacher.login, new.secret)
        for forged in (head_of_school.email, address(head_of_school.login), "sophie@exemple.org"):
            connection.rset()
            connection.mail(forged)
            code, answer = connection.rcpt(teacher.email)

            assert code == 553, forged
            assert b"not owned by user sbernard" in answer


def test_message_announced_larger_than_the_limit_is_refused(postfix: Postfix, teacher: Any) -> None:
    new = create_app_password(user=teacher, label="Thunderbird", device="thunderbird")
    with submission(postfix) as connection:
        connection.login(teacher.login, new.secret)
        code, answer = connection.mail(teacher.email, [f"SIZE={MESSAGE_SIZE_LIMIT + 1}"])

    assert code == 552
    assert b"Message size exceeds fixed limit" in answer


def test_oversized_message_sent_without_announcing_its_size_is_refused(
    postfix: Postfix, teacher: Any
) -> None:
    new = create_app_password(user=teacher, label="Thunderbird", device="thunderbird")
    big = message(teacher.email, teacher.email, "Photos de la sortie", "x" * 76 + "\n")
    big.set_content(base64.encodebytes(b"\0" * (MESSAGE_SIZE_LIMIT * 3 // 4 + 1024)).decode())
    with submission(postfix) as connection:
        connection.login(teacher.login, new.secret)
        assert connection.mail(teacher.email)[0] == 250
        assert connection.rcpt(teacher.email)[0] == 250
        code, answer = connection.data(big.as_bytes())

    assert code == 552
    assert b"message file too big" in answer
    assert postfix.queue_is_empty()


def test_mail_outside_the_domain_never_leaves_the_test_machine(
    postfix: Postfix, teacher: Any
) -> None:
    new = create_app_password(user=teacher, label="Thunderbird", device="thunderbird")
    with submission(postfix) as connection:
        connection.login(teacher.login, new.secret)
        assert connection.mail(teacher.email)[0] == 250
        code, answer = connection.rcpt("parent.eleve@exemple.org")

    # The loopback configuration's "error" transport: refused while the client is there.
    assert code == 550
    assert b"sends nothing outside the mail domain" in answer


def test_address_tables_give_each_address_to_one_login() -> None:
    tables = address_tables(
        "ac-exemple.fr",
        [
            Mailbox("sbernard", ("Sophie.Bernard@ac-exemple.fr",)),
            Mailbox("kmartin", ("karim.martin@exemple.fr",)),
        ],
    )

    assert "sophie.bernard@ac-exemple.fr\tsbernard\n" in tables["sender_logins"]
    assert "sbernard@ac-exemple.fr\tsbernard\n" in tables["sender_logins"]
    assert "sophie.bernard@ac-exemple.fr\tsbernard@ac-exemple.fr\n" in tables["virtual_aliases"]
    assert "karim.martin@exemple.fr" not in "".join(tables.values())
    with pytest.raises(ValueError, match="belongs to"):
        address_tables(
            "ac-exemple.fr",
            [Mailbox("sbernard"), Mailbox("sophie", ("sbernard@ac-exemple.fr",))],
        )


def test_the_webmail_sends_through_postfix_and_reports_refused_recipients(
    postfix: Postfix, dovecot: Dovecot, teacher: Any, head_of_school: Any, settings: Any
) -> None:
    """The webmail itself, as in production: IMAP on Dovecot, submission on Postfix with the
    person's token. One unknown address among good ones: the message leaves for the others,
    is kept in Sent, and the person is told whom it missed."""
    from django.urls import reverse

    from convergence.mail import connections
    from tests.helpers import client_of, text_of

    settings.MAIL_IMAP_PORT = dovecot.imap_port
    settings.MAIL_SUBMISSION_PORT = postfix.submission_port
    settings.MAIL_IMAP_SECURITY = settings.MAIL_SUBMISSION_SECURITY = "none"
    connections.reset()
    browser = client_of(teacher)
    response = browser.post(
        reverse("mail:write"),
        {
            "a": f"{head_of_school.email}, personne.inconnue@{settings.MAIL_DOMAIN}",
            "objet": "Conseil de classe de 3e B",
            "texte": "Bonjour, voici les appréciations.",
            "action": "envoyer",
        },
        follow=True,
    )
    page = text_of(response)
    assert "Message envoyé." in page
    assert "personne.inconnue@" in page and "Les autres ont reçu le message." in page
    assert "Conseil de classe de 3e B" in " ".join(
        subjects_received(dovecot, head_of_school, "Conseil de classe de 3e B")
    )
    sent = text_of(browser.get(reverse("mail:inbox") + "?dossier=Sent"))
    assert "Conseil de classe de 3e B" in sent
    connections.reset()
