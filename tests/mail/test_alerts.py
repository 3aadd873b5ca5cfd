# ruff: noqa: F811 - the fixtures imported below are test arguments of the same name
"""« Me notifier »: the mail server tells the portal that a rule asked to be notified, the
person sees it on the mail pages and the dashboard, and Dovecot's Pigeonhole runs the
notify program at delivery (sieve_extprograms, deploy/mail/notify.py)."""

from __future__ import annotations

import email.utils
import os
import smtplib
import subprocess
import sys
import time
import warnings
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from imapclient import IMAPClient
from sievelib.managesieve import Client as SieveClient

from convergence.core.blueprints import apply
from convergence.mail import alerts
from convergence.mail.models import MailAlert
from convergence.sso.actions import issue_first_party_token
from deploy.mail.dovecot import NOTIFY, Dovecot, free_port
from tests.helpers import client_of, text_of
from tests.mail.conftest import ServerClient
from tests.mail.dovecot import dovecot, dovecot_instance  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5
URL = "/messagerie/serveur/notification/"
HEAD = "Philippe Girard <philippe.girard@ac-besancon.fr>"


def notify(client: Client, server: ServerClient | None, **fields: str) -> Any:
    data = {
        "login": "sbernard",
        "sender": HEAD,
        "subject": "Conseil pédagogique jeudi",
        "message_id": "<conseil-1@ac-besancon.fr>",
        **fields,
    }
    headers = {"HTTP_AUTHORIZATION": server.basic()} if server is not None else {}
    return client.post(URL, data, **headers)


# --- the endpoint -----------------------------------------------------------------------------


def test_the_mail_server_records_an_alert_for_the_person(
    mail_server_client: ServerClient, teacher: Any
) -> None:
    response = notify(Client(), mail_server_client, subject="Conseil\r\npédagogique\x00 jeudi")

    assert response.status_code == 204
    alert = MailAlert.objects.get(user=teacher)
    assert (alert.sender, alert.subject) == (HEAD, "Conseil pédagogique jeudi")
    assert alert.message_id == "<conseil-1@ac-besancon.fr>"
    assert alert.seen_at is None


def test_the_person_may_be_named_by_their_address(
    mail_server_client: ServerClient, teacher: Any
) -> None:
    response = notify(Client(), mail_server_client, login=teacher.email.upper())

    assert response.status_code == 204
    assert MailAlert.objects.of(teacher).count() == 1


def test_only_the_academie_mail_server_may_notify(
    mail_server_client: ServerClient, teacher: Any
) -> None:
    impostor = ServerClient(mail_server_client.client_id, "pas-le-bon-secret")

    assert notify(Client(), None).status_code == 401
    assert notify(Client(), impostor).status_code == 401
    assert not MailAlert.objects.exists()


def test_a_dedicated_notify_client_may_notify_and_nothing_else(
    mail_server_client: ServerClient, teacher: Any, settings: Any
) -> None:
    """The notify program's secret is readable by the mail user: with its own client set, that
    client posts notifications only (not app-password checks, not sending counts), and the
    mail server's own client no longer posts notifications."""
    notifier = ServerClient("notifications-messagerie", "Xq3vN8tLw2RkP7sZy5FhJ4mBc9DgT6aE")
    apply(
        {
            "server_clients": [
                {
                    "client_id": notifier.client_id,
                    "name": "Notifications des règles",
                    "client_secret": notifier.client_secret,
                }
            ]
        }
    )
    settings.MAIL_NOTIFY_CLIENT_ID = notifier.client_id

    assert notify(Client(), notifier).status_code == 204
    assert notify(Client(), mail_server_client, message_id="<autre@x>").status_code == 401
    check = Client().post(
        "/messagerie/serveur/authentification/",
        {"login": teacher.login, "password": "x" * 20, "protocol": "imap"},
        HTTP_AUTHORIZATION=notifier.basic(),
    )
    assert check.status_code == 401
    sending = Client().post(
        "/messagerie/serveur/envoi/",
        {"login": teacher.login, "recipients": "1000", "sasl_method": "PLAIN"},
        HTTP_AUTHORIZATION=notifier.basic(),
    )
    assert sending.status_code == 401


def test_a_person_without_an_academie_mailbox_gets_no_alert(
    mail_server_client: ServerClient, parent: Any
) -> None:
    assert notify(Client(), mail_server_client, login=parent.login).status_code == 404
    assert notify(Client(), mail_server_client, login="personne-inconnue").status_code == 404
    assert not MailAlert.objects.exists()


def test_the_same_message_raises_one_alert(mail_server_client: ServerClient, teacher: Any) -> None:
    first = notify(Client(), mail_server_client)
    again = notify(Client(), mail_server_client)

    assert (first.status_code, again.status_code) == (204, 204)
    assert MailAlert.objects.of(teacher).count() == 1


def test_alerts_past_the_hourly_limit_are_refused(
    mail_server_client: ServerClient, teacher: Any, head_of_school: Any, settings: Any
) -> None:
    settings.MAIL_ALERTS_PER_HOUR = 3
    answers = [
        notify(Client(), mail_server_client, message_id=f"<m{n}@x>").status_code for n in range(5)
    ]
    over = notify(Client(), mail_server_client, message_id="<m9@x>")

    assert answers == [204, 204, 204, 429, 429]
    assert int(over["Retry-After"]) > 0
    assert MailAlert.objects.of(teacher).count() == 3
    # Another person's alerts are counted apart.
    other = notify(Client(), mail_server_client, login=head_of_school.login)
    assert other.status_code == 204


def test_an_unreachable_limiter_refuses_with_503(
    mail_server_client: ServerClient, teacher: Any, settings: Any
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    response = notify(Client(), mail_server_client)

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert not MailAlert.objects.exists()


# --- what the person sees ---------------------------------------------------------------------


def test_marking_an_alert_seen_needs_its_owner_and_a_post(
    teacher: Any, head_of_school: Any
) -> None:
    alert = alerts.record_alert(user=teacher, sender=HEAD, subject="Réunion", message_id="<a@x>")
    assert alert is not None
    url = reverse("mail:alert_seen", args=[alert.pk])

    assert client_of(teacher).get(url).status_code == 405
    assert client_of(head_of_school).post(url, {"masquer": "1"}).status_code == 404
    alert.refresh_from_db()
    assert alert.seen_at is None

    response = client_of(teacher).post(url, {"masquer": "1", "retour": "https://ailleurs.example/"})
    assert response.status_code == 302
    assert response["Location"] == reverse("mail:inbox")  # never to another site
    alert.refresh_from_db()
    assert alert.seen_at is not None
    assert not alerts.unseen_of(teacher).exists()


def test_a_csrf_token_is_needed_to_mark_an_alert_seen(teacher: Any) -> None:
    alert = alerts.record_alert(user=teacher, sender=HEAD, subject="Réunion")
    assert alert is not None
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(teacher)

    response = browser.post(reverse("mail:alert_seen", args=[alert.pk]), {"masquer": "1"})

    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.seen_at is None


def test_a_mail_server_down_leaves_the_alert_in_the_banner(teacher: Any, settings: Any) -> None:
    settings.MAIL_IMAP_HOST = "127.0.0.1"
    settings.MAIL_IMAP_PORT = free_port()  # nothing listens
    settings.MAIL_TIMEOUT_SECONDS = 1
    alert = alerts.record_alert(user=teacher, sender=HEAD, subject="Réunion")
    assert alert is not None

    response = client_of(teacher).post(reverse("mail:alert_seen", args=[alert.pk]), {"ouvrir": "1"})

    assert response.status_code == 503
    alert.refresh_from_db()
    assert alert.seen_at is None


# --- with Dovecot: the banner, opening the message, and Pigeonhole running notify.py --------


@pytest.fixture
def imap(dovecot: Dovecot, settings: Any) -> Dovecot:
    settings.MAIL_IMAP_HOST = "127.0.0.1"
    settings.MAIL_IMAP_PORT = dovecot.imap_port
    settings.MAIL_IMAP_SECURITY = "none"
    settings.MAIL_TIMEOUT_SECONDS = 3
    return dovecot


def _message(
    subject: str, *, sender: str = HEAD, to: str = "sophie.bernard@ac-besancon.fr"
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = email.utils.make_msgid(domain="ac-besancon.fr")
    message.set_content("Bonjour,\n\nRendez-vous jeudi à 17 h en salle du conseil.\n")
    return message


def _lmtp(server: Dovecot, message: EmailMessage, login: str) -> None:
    with smtplib.LMTP("127.0.0.1", server.lmtp_port, timeout=TIMEOUT) as lmtp:
        refused = lmtp.send_message(message, to_addrs=[f"{login}@ac-besancon.fr"])
    assert refused == {}


def _inbox(server: Dovecot, person: Any) -> IMAPClient:
    token, _expires = issue_first_party_token(
        user=person, client_id="tests", name="Tests", scope="mail", seconds=600
    )
    client = IMAPClient("127.0.0.1", port=server.imap_port, ssl=False, timeout=TIMEOUT)
    client.oauth2_login(person.login, token)
    client.select_folder("INBOX")
    uids = client.search(["ALL"])
    if uids:  # one Dovecot per module: start from an empty INBOX
        client.add_flags(uids, [b"\\Deleted"], silent=True)
        client.expunge()
    return client


def test_the_mail_pages_show_the_alert_and_open_its_message(imap: Dovecot, teacher: Any) -> None:
    box = _inbox(imap, teacher)
    try:
        message = _message("Conseil pédagogique jeudi")
        box.append("INBOX", message.as_bytes())
        uid = box.search(["ALL"])[0]
    finally:
        box.logout()
    alert = alerts.record_alert(
        user=teacher,
        sender=HEAD,
        subject="Conseil pédagogique jeudi",
        message_id=message["Message-ID"],
    )
    assert alert is not None
    browser = client_of(teacher)

    page = text_of(browser.get(reverse("mail:inbox")))
    assert (
        "Nouveau message de Philippe Girard <philippe.girard@ac-besancon.fr> : "
        "Conseil pédagogique jeudi" in page
    )

    opened = browser.post(reverse("mail:alert_seen", args=[alert.pk]), {"ouvrir": "1"})
    assert opened.status_code == 302
    assert opened["Location"] == f"{reverse('mail:message', args=[uid])}?dossier=INBOX"
    alert.refresh_from_db()
    assert alert.seen_at is not None
    assert "Nouveau message de" not in text_of(browser.get(reverse("mail:inbox")))


def test_pigeonhole_runs_the_notify_program_of_a_rule_at_delivery(
    dovecot: Dovecot, teacher: Any
) -> None:
    """The contract's vocabulary, stored over ManageSieve with the person's webmail token as
    the portal does (Dovecot must accept vnd.dovecot.execute in a personal script), then two
    messages over LMTP: the head's raises an alert, both stay in the INBOX."""
    token, _expires = issue_first_party_token(
        user=teacher,
        client_id=settings.MAIL_WEBMAIL_CLIENT_ID,
        name="Messagerie",
        scope="mail",
        seconds=300,
    )
    script = (
        'require ["fileinto", "imap4flags", "copy", "vacation", "date", "relational", "mime",'
        ' "vnd.dovecot.execute"];\n'
        "# --- Convergence : début de la section gérée par le portail ---\n"
        '# règle: {"name":"Mon chef d\'établissement"}\n'
        'if address :is "from" ["philippe.girard@ac-besancon.fr"] {\n'
        '  execute :pipe "convergence-notify";\n'
        "}\n"
        "# --- Convergence : fin de la section gérée par le portail ---\n"
    )
    sieve = SieveClient("127.0.0.1", dovecot.sieve_port)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # clear text: the loopback
        assert sieve.connect(teacher.login, token, authmech="OAUTHBEARER")
    try:
        assert sieve.putscript("convergence", script), sieve.errmsg
        assert sieve.setactive("convergence"), sieve.errmsg
    finally:
        sieve.logout()
    _inbox(dovecot, teacher).logout()

    head = _message("Conseil pédagogique : ordre du jour")
    _lmtp(dovecot, head, teacher.login)
    _lmtp(dovecot, _message("Lettre d'information", sender="info@lettre.example"), teacher.login)

    alert = MailAlert.objects.get(user=teacher)
    assert alert.sender == HEAD
    assert alert.subject == "Conseil pédagogique : ordre du jour"
    assert alert.message_id == head["Message-ID"]
    assert _inbox_count(dovecot, teacher) == 2


def _inbox_count(server: Dovecot, person: Any) -> int:
    token, _expires = issue_first_party_token(
        user=person, client_id="tests", name="Tests", scope="mail", seconds=600
    )
    with IMAPClient("127.0.0.1", port=server.imap_port, ssl=False, timeout=TIMEOUT) as client:
        client.oauth2_login(person.login, token)
        return int(client.select_folder("INBOX", readonly=True)[b"EXISTS"])


# --- notify.py on its own -----------------------------------------------------------------------


def _run_notify(
    config: Path, message: bytes, env: dict[str, str]
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, str(NOTIFY)],
        input=message,
        env={"PATH": os.environ.get("PATH", ""), "CONVERGENCE_NOTIFY_CONFIG": str(config), **env},
        capture_output=True,
        timeout=15,
        check=False,
    )


def test_notify_never_fails_the_delivery_when_the_portal_is_down(tmp_path: Path) -> None:
    config = tmp_path / "notify.conf"
    config.write_text(
        "portal_url = http://127.0.0.1:9\nclient_id = messagerie\nclient_secret = x\n"
        "timeout_seconds = 2\n",
        encoding="utf-8",
    )
    started = time.monotonic()
    done = _run_notify(config, _message("Bonjour").as_bytes(), {"USER": "sbernard"})

    assert done.returncode == 0
    assert b"portal not told" in done.stderr
    assert time.monotonic() - started < 10


def test_notify_without_configuration_or_person_exits_quietly(tmp_path: Path) -> None:
    missing = _run_notify(tmp_path / "absent.conf", b"Subject: x\r\n\r\n", {"USER": "sbernard"})
    nobody = _run_notify(tmp_path / "absent.conf", b"Subject: x\r\n\r\n", {})

    assert (missing.returncode, nobody.returncode) == (0, 0)
    assert b"cannot read the configuration" in missing.stderr
    assert b"nobody to notify" in nobody.stderr


def test_notify_tells_the_portal_with_the_recipient_when_there_is_no_user(
    live_server: Any, mail_server_client: ServerClient, teacher: Any, tmp_path: Path
) -> None:
    config = tmp_path / "notify.conf"
    config.write_text(
        f"portal_url = {live_server.url}\nclient_id = {mail_server_client.client_id}\n"
        f"client_secret = {mail_server_client.client_secret}\ntimeout_seconds = 5\n",
        encoding="utf-8",
    )
    message = _message("Réunion de rentrée")
    raw = message.as_bytes().replace(b"\n", b"\r\n") + b"x" * 300_000

    done = _run_notify(config, raw, {"RECIPIENT": teacher.email})

    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    alert = MailAlert.objects.get(user=teacher)
    assert (alert.subject, alert.message_id) == ("Réunion de rentrée", message["Message-ID"])
