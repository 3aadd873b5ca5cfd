"""The demo's embedded mail servers (``demo/mail/``) against a live portal.

IMAP, ManageSieve and submission run for real, on free ports, in a thread; they check people
at pytest-django's live server exactly as Dovecot does in production: the webmail's access
token by RFC 7662 introspection, with the demo's server client (``server_clients:``).
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import smtplib
import warnings
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from imapclient import IMAPClient
from sievelib.managesieve import Client as SieveClient

from convergence.core.blueprints import apply
from convergence.sso.actions import issue_first_party_token
from demo.mail.auth import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, PortalChecker
from demo.mail.seed import PHISHING_DOMAIN, people_from_database, seed_mailboxes
from demo.mail.servers import MailServers
from demo.mail.submission import CATCH_ALL, database_directory

TIMEOUT = 10
DOMAIN = "ac-besancon.fr"


@pytest.fixture
def mail_client(demo: None) -> None:
    """The demo's mail server client, as the demo blueprint declares it."""
    apply(
        {
            "server_clients": [
                {
                    "client_id": DEMO_CLIENT_ID,
                    "name": "Serveur de messagerie de démonstration",
                    "client_secret": DEMO_CLIENT_SECRET,
                }
            ]
        }
    )


def _servers(base_dir: Path, portal: str) -> MailServers:
    return MailServers(
        base_dir=base_dir,
        checker=PortalChecker(portal=portal, timeout=TIMEOUT),
        directory=database_directory(DOMAIN),
    )


@pytest.fixture
def servers(live_server: Any, mail_client: None, tmp_path: Path) -> Iterator[MailServers]:
    running = _servers(tmp_path / "demo-mail", live_server.url)
    running.start()
    yield running
    running.stop()


def token_of(user: Any) -> str:
    token, _expires = issue_first_party_token(
        user=user,
        client_id=settings.MAIL_WEBMAIL_CLIENT_ID,
        name="Messagerie",
        scope="mail",
        seconds=600,
    )
    return token


def imap_as(servers: MailServers, user: Any, token: str | None = None) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=servers.ports.imap, ssl=False, timeout=TIMEOUT)
    client.oauth2_login(user.login, token if token is not None else token_of(user))
    return client


def test_xoauth2_login_with_a_portal_token_opens_the_mailbox(
    servers: MailServers, teacher: Any
) -> None:
    client = imap_as(servers, teacher)
    try:
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
        assert b"IDLE" in client.capabilities()
    finally:
        client.logout()


def test_a_bad_token_is_refused(servers: MailServers, teacher: Any) -> None:
    client = IMAPClient("127.0.0.1", port=servers.ports.imap, ssl=False, timeout=TIMEOUT)
    with pytest.raises(IMAPClient.Error):
        client.oauth2_login(teacher.login, "pas-un-jeton-du-portail")
    client.shutdown()


def test_a_token_is_refused_for_another_login(
    servers: MailServers, teacher: Any, head_of_school: Any
) -> None:
    client = IMAPClient("127.0.0.1", port=servers.ports.imap, ssl=False, timeout=TIMEOUT)
    with pytest.raises(IMAPClient.Error):
        client.oauth2_login(head_of_school.login, token_of(teacher))
    client.shutdown()


def test_oauthbearer_login_works_too(servers: MailServers, teacher: Any) -> None:
    token = token_of(teacher)
    imap = imaplib.IMAP4("127.0.0.1", servers.ports.imap, timeout=TIMEOUT)
    try:
        payload = f"n,a={teacher.login},\x01auth=Bearer {token}\x01\x01".encode()
        status, _ = imap.authenticate("OAUTHBEARER", lambda _challenge: payload)
        assert status == "OK"
        assert imap.select("INBOX")[0] == "OK"
    finally:
        imap.logout()


def test_the_servers_fail_closed_when_the_portal_cannot_be_reached(
    mail_client: None, teacher: Any, tmp_path: Path
) -> None:
    unreachable = _servers(tmp_path, "http://127.0.0.1:9")
    unreachable.start()
    try:
        client = IMAPClient("127.0.0.1", port=unreachable.ports.imap, ssl=False, timeout=TIMEOUT)
        with pytest.raises(IMAPClient.Error):
            client.oauth2_login(teacher.login, token_of(teacher))
        client.shutdown()
    finally:
        unreachable.stop()


def test_seeding_fills_the_mailbox_once(servers: MailServers, teacher: Any) -> None:
    people = people_from_database(DOMAIN)
    assert teacher.login in {person.login for person in people}
    added = seed_mailboxes(servers.base_dir, people, domain=DOMAIN)
    assert added > 0

    client = imap_as(servers, teacher)
    try:
        folders = {name for _flags, _sep, name in client.list_folders()}
        assert {"INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"} <= folders
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["ALL"])
        assert len(uids) == 9  # head, note de service, PDF, newsletter, thread of 4, phishing
        fetched = client.fetch(uids, ["RFC822", "FLAGS"])
        messages = {
            uid: email.message_from_bytes(data[b"RFC822"], policy=email.policy.default)
            for uid, data in fetched.items()
        }
        senders = [str(message["From"]) for message in messages.values()]
        assert any(sender.endswith(f"@{PHISHING_DOMAIN}>") for sender in senders)
        pdfs = [
            part.get_payload(decode=True)
            for message in messages.values()
            for part in message.walk()
            if part.get_content_type() == "application/pdf"
        ]
        assert len(pdfs) == 1
        assert pdfs[0].startswith(b"%PDF-1.4") and pdfs[0].rstrip().endswith(b"%%EOF")
        flagged = [uid for uid, data in fetched.items() if b"\\Flagged" in data[b"FLAGS"]]
        assert len(flagged) == 1
        thread = [m for m in messages.values() if "musée du Temps" in str(m["Subject"])]
        assert len(thread) == 4
        assert str(thread[-1]["References"]).count("<demo-sortie-musee-") == 3
    finally:
        client.logout()

    assert seed_mailboxes(servers.base_dir, people, domain=DOMAIN) == 0
    client = imap_as(servers, teacher)
    try:
        assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] == 9
    finally:
        client.logout()


def _sent(smtp: smtplib.SMTP, sender: Any, to: str) -> None:
    message = EmailMessage()
    message["From"] = sender.email
    message["To"] = to
    message["Subject"] = "Réunion de l'équipe de mathématiques"
    message.set_content("Bonjour,\n\nRéunion mardi à 12 h 30 en salle 104.\n")
    smtp.send_message(message)


def test_an_authenticated_submission_lands_in_the_recipients_inbox(
    servers: MailServers, teacher: Any, head_of_school: Any
) -> None:
    token = token_of(teacher)
    with smtplib.SMTP("127.0.0.1", servers.ports.submission, timeout=TIMEOUT) as smtp:
        smtp.ehlo()
        smtp.auth(
            "XOAUTH2",
            lambda _challenge=None: f"user={teacher.login}\x01auth=Bearer {token}\x01\x01",
        )
        _sent(smtp, teacher, head_of_school.email)
        _sent(smtp, teacher, "parent.eleve@exemple.fr")

    client = imap_as(servers, head_of_school)
    try:
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["SUBJECT", "Réunion de l'équipe"], charset="UTF-8")
        assert len(uids) == 1
    finally:
        client.logout()
    catch_all = servers.base_dir / CATCH_ALL / "new"
    assert len(list(catch_all.iterdir())) == 1


def test_an_unauthenticated_submission_is_refused(
    servers: MailServers, teacher: Any, head_of_school: Any
) -> None:
    with smtplib.SMTP("127.0.0.1", servers.ports.submission, timeout=TIMEOUT) as smtp:
        smtp.ehlo()
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            _sent(smtp, teacher, head_of_school.email)
    assert refused.value.smtp_code == 530
    assert not (servers.base_dir / head_of_school.login).exists()


def test_a_submission_with_a_bad_token_is_refused(servers: MailServers, teacher: Any) -> None:
    with smtplib.SMTP("127.0.0.1", servers.ports.submission, timeout=TIMEOUT) as smtp:
        smtp.ehlo()
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.auth(
                "XOAUTH2",
                lambda _challenge=None: f"user={teacher.login}\x01auth=Bearer faux\x01\x01",
            )


def test_managesieve_stores_the_active_script(servers: MailServers, teacher: Any) -> None:
    sieve = SieveClient("127.0.0.1", servers.ports.sieve)
    with warnings.catch_warnings():
        # sievelib warns that the connection is not encrypted: it is the loopback.
        warnings.simplefilter("ignore", UserWarning)
        assert sieve.connect(teacher.login, token_of(teacher), authmech="OAUTHBEARER")
    script = (
        'require ["fileinto"];\nif header :contains "subject" "[ENT]" { fileinto "Archive"; }\n'
    )
    assert sieve.putscript("regles", script)
    assert sieve.putscript("absence", 'require ["vacation"];\nvacation "Absente.";\n')
    assert sieve.setactive("regles")
    active, names = sieve.listscripts()
    assert (active, sorted(names)) == ("regles", ["absence"])
    assert sieve.getscript("absence").rstrip() == 'require ["vacation"];\nvacation "Absente.";'
    # pymap answers LOGOUT with BYE where RFC 5804 says OK, which sievelib takes for an error.
    sieve.sock.close()
    active_file = servers.base_dir / teacher.login / "dovecot.sieve"
    assert active_file.read_text(encoding="utf-8") == script


@pytest.fixture
def iphone_password(teacher: Any) -> str:
    """An app password Sophie created for her phone at the portal."""
    from convergence.mail.actions import create_app_password

    return create_app_password(user=teacher, label="iPhone de Sophie", device="iphone").secret


def test_an_app_password_opens_the_mailbox_over_imap(
    servers: MailServers, teacher: Any, iphone_password: str
) -> None:
    client = IMAPClient("127.0.0.1", port=servers.ports.imap, ssl=False, timeout=TIMEOUT)
    try:
        client.login(teacher.login, iphone_password)
        assert client.select_folder("INBOX")[b"EXISTS"] == 0
    finally:
        client.logout()


def test_a_wrong_app_password_is_refused(
    servers: MailServers, teacher: Any, iphone_password: str
) -> None:
    client = IMAPClient("127.0.0.1", port=servers.ports.imap, ssl=False, timeout=TIMEOUT)
    with pytest.raises(IMAPClient.Error):
        client.login(teacher.login, iphone_password[::-1])
    client.shutdown()


def test_an_app_password_submits_over_smtp(
    servers: MailServers, teacher: Any, head_of_school: Any, iphone_password: str
) -> None:
    with smtplib.SMTP("127.0.0.1", servers.ports.submission, timeout=TIMEOUT) as smtp:
        smtp.login(teacher.login, iphone_password)
        _sent(smtp, teacher, head_of_school.email)
    assert len(list((servers.base_dir / head_of_school.login / "new").iterdir())) == 1
