"""Mail rules and the vacation reply, written by the portal's pages over ManageSieve into the
real Dovecot (Pigeonhole), which runs them when LMTP delivers: a rule files a message, the
head-of-school template, a vacation reply sent once per sender (captured where Dovecot's
submission_host points), a refused script shown with the server's reason, forwarding
outside refused, no mailbox no page, ManageSieve down is the branded 503."""

from __future__ import annotations

import datetime
import email
import email.policy
import shutil
import smtplib
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from imapclient import IMAPClient

from convergence.audit.models import AuditEvent
from convergence.mail import limits_actions, managesieve, rules_actions, sieve
from convergence.mail.models import MailAlert
from convergence.sso.actions.tokens import issue_first_party_token
from deploy.mail.dovecot import Dovecot, free_port
from tests.helpers import text_of
from tests.mail.dovecot import SERVER_CLIENT_ID, SERVER_CLIENT_SECRET, require_dovecot

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5
DOMAIN = "ac-besancon.fr"


class Captured:
    """An SMTP server standing for the académie's relay: what Dovecot sends is kept."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.arrived:
            self.messages.append(
                (envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
            )
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, seconds: float = TIMEOUT) -> list[tuple[str, list[str], bytes]]:
        deadline = time.monotonic() + seconds
        with self.arrived:
            while len(self.messages) < count and time.monotonic() < deadline:
                self.arrived.wait(deadline - time.monotonic())
            return list(self.messages)


@pytest.fixture(scope="module")
def relay() -> Iterator[tuple[Captured, int]]:
    handler = Captured()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def sieve_dovecot(live_server: Any, relay: tuple[Captured, int]) -> Iterator[Dovecot]:
    require_dovecot()
    directory = Path(tempfile.mkdtemp(prefix="convergence-dovecot-rules-"))
    instance = Dovecot(
        directory=directory,
        portal_url=live_server.url,
        client_id=SERVER_CLIENT_ID,
        client_secret=SERVER_CLIENT_SECRET,
        auth_failure_delay="0",
        timeout_seconds=3,
        submission_host=f"127.0.0.1:{relay[1]}",
    )
    try:
        instance.render()
        instance.start(timeout=10)
        yield instance
    finally:
        instance.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def server(
    sieve_dovecot: Dovecot, mail_server_client: Any, relay: tuple[Captured, int], settings: Any
) -> Iterator[Dovecot]:
    settings.MAIL_IMAP_PORT = sieve_dovecot.imap_port
    settings.MAIL_SIEVE_PORT = sieve_dovecot.sieve_port
    settings.MAIL_IMAP_SECURITY = settings.MAIL_SIEVE_SECURITY = "none"
    settings.MAIL_DOMAIN = DOMAIN
    relay[0].messages.clear()
    # Each test starts without a script (mailboxes stay: subjects are unique per test).
    for home in (sieve_dovecot.directory / "home").glob("*"):
        shutil.rmtree(home / "sieve", ignore_errors=True)
        (home / ".dovecot.sieve").unlink(missing_ok=True)
    before = len(sieve_dovecot.log_text())
    yield sieve_dovecot
    sys.stdout.write("--- dovecot.log during this test ---\n")
    sys.stdout.write(sieve_dovecot.log_text()[before:])


def deliver(server: Dovecot, login: str, **headers: str) -> None:
    message = EmailMessage()
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    if "To" not in message:
        message["To"] = f"{login}@{DOMAIN}"
    message.set_content("Bonjour,\nvoici le message.\n")
    sender = message["From"].addresses[0].addr_spec
    with smtplib.LMTP("127.0.0.1", server.lmtp_port, timeout=TIMEOUT) as lmtp:
        refused = lmtp.send_message(message, from_addr=sender, to_addrs=[f"{login}@{DOMAIN}"])
    assert refused == {}


def subjects_in(server: Dovecot, person: Any, folder: str) -> list[str]:
    token, _expires = issue_first_party_token(
        user=person,
        client_id=settings.MAIL_WEBMAIL_CLIENT_ID,
        name="Tests",
        scope="mail",
        seconds=300,
    )
    with IMAPClient("127.0.0.1", port=server.imap_port, ssl=False, timeout=TIMEOUT) as client:
        client.oauth2_login(person.login, token)
        if not client.folder_exists(folder):
            return []
        client.select_folder(folder, readonly=True)
        fetched = client.fetch(client.search(["ALL"]), ["ENVELOPE"])
        return [
            str(make_header(decode_header(data[b"ENVELOPE"].subject.decode())))
            for data in fetched.values()
        ]


def active_text(person: Any) -> str:
    return managesieve.read_active(person).text


def supports_execute(person: Any) -> bool:
    with managesieve.session(person) as client:
        return sieve.EXECUTE in client.get_sieve_capabilities()


def rule_form(name: str, **fields: str) -> dict[str, str]:
    return {"name": name, "match": sieve.ALL, "enabled": "on", **fields}


def test_a_rule_files_a_message_at_delivery(server: Dovecot, client: Any, teacher: Any) -> None:
    client.force_login(teacher)
    response = client.post(
        reverse("mail_rules:new"),
        rule_form(
            "Conseils de classe",
            condition_0_kind=sieve.SUBJECT,
            condition_0_values="conseil de classe",
            action_0_kind=sieve.FILEINTO,
            action_0_folder="Conseils",
        ),
    )
    assert response.status_code == 302, text_of(response)

    deliver(server, teacher.login, From=f"secretariat@{DOMAIN}", Subject="Conseil de classe 4e B")
    deliver(server, teacher.login, From=f"secretariat@{DOMAIN}", Subject="Cantine")

    assert subjects_in(server, teacher, "Conseils") == ["Conseil de classe 4e B"]
    assert "Cantine" in subjects_in(server, teacher, "INBOX")
    listing = client.get(reverse("mail_rules:rules"))
    assert "Conseils de classe" in text_of(listing)
    assert AuditEvent.objects.filter(event_type="mail.rules_changed", actor=teacher).exists()


def test_head_of_school_template(
    server: Dovecot, client: Any, teacher: Any, head_of_school: Any
) -> None:
    client.force_login(teacher)
    assert supports_execute(teacher)
    response = client.post(reverse("mail_rules:act"), {"operation": "template", "modele": "chef"})
    assert response.status_code == 302, text_of(response)

    deliver(server, teacher.login, From=head_of_school.email, Subject="Conseil pédagogique")
    deliver(
        server,
        teacher.login,
        From="lettre@editeur.example",
        Subject="La lettre du mois",
        List_Id="<lettre.editeur.example>",
    )

    inbox, others = subjects_in(server, teacher, "INBOX"), subjects_in(server, teacher, "Autres")
    assert "Conseil pédagogique" in inbox and "Conseil pédagogique" not in others
    assert "La lettre du mois" in others and "La lettre du mois" not in inbox
    rules = rules_actions.read_state(teacher).rules
    assert [rule.name for rule in rules] == ["Messages de ma direction", "Tous les autres messages"]
    assert rules[0].conditions[0].values == (head_of_school.email,)
    # « me notifier »: Pigeonhole ran the portal's program for the head's message only.
    alerts = list(MailAlert.objects.filter(user=teacher).values_list("subject", flat=True))
    assert alerts == ["Conseil pédagogique"]


def test_templates_keep_catch_all_last_without_execute(
    server: Dovecot, client: Any, teacher: Any
) -> None:
    """The newsletters template works on any server (no notification)."""
    client.force_login(teacher)
    response = client.post(
        reverse("mail_rules:act"), {"operation": "template", "modele": "lettres"}
    )
    assert response.status_code == 302, text_of(response)
    deliver(
        server,
        teacher.login,
        From="lettre@editeur.example",
        Subject="Lettre 12",
        List_Unsubscribe="<mailto:stop@editeur.example>",
    )
    assert subjects_in(server, teacher, "Lettres d'information") == ["Lettre 12"]


def test_vacation_reply_is_sent_once_per_sender(
    server: Dovecot, client: Any, teacher: Any, relay: tuple[Captured, int]
) -> None:
    captured, _port = relay
    client.force_login(teacher)
    today = timezone.localdate()
    response = client.post(
        reverse("mail_rules:vacation"),
        {
            "operation": "save",
            "start": (today - datetime.timedelta(days=1)).isoformat(),
            "end": (today + datetime.timedelta(days=5)).isoformat(),
            "subject": "Absente",
            # A line starting with "#" reaches the sender as written (escaped in the script).
            "text": "Je suis absente jusqu'à lundi.\n# Merci de votre message.",
            "days": "3",
        },
    )
    assert response.status_code == 302, text_of(response)

    for subject in ("Question 1", "Question 2"):
        deliver(
            server, teacher.login, From="karim.martin@exemple.fr", To=teacher.email, Subject=subject
        )
    deliver(
        server,
        teacher.login,
        From="liste@exemple.fr",
        To=teacher.email,
        Subject="Liste",
        List_Id="<liste.exemple.fr>",
    )
    replies = captured.wait_for(1)
    time.sleep(0.5)  # a second reply, if any, would come now

    assert len(captured.messages) == 1, captured.messages
    _sender, recipients, content = replies[0]
    assert recipients == ["karim.martin@exemple.fr"]
    assert b"Absente" in content
    body = email.message_from_bytes(content, policy=email.policy.default).get_body()
    assert body is not None and "\n# Merci de votre message." in body.get_content()
    inbox = client.get(reverse("mail:inbox"))
    assert 'data-vacation="on"' in inbox.content.decode()
    page = client.get(reverse("mail_rules:vacation"))
    assert 'id="vacation-state"' in page.content.decode()
    assert "Je suis absente jusqu'à lundi." in text_of(page)


def test_a_refused_script_is_shown_with_the_servers_reason(
    server: Dovecot, client: Any, teacher: Any
) -> None:
    """A hand-written part the server refuses (written behind ManageSieve's back): the page
    shows Dovecot's reason, the person's input stays in the form, the script is unchanged."""
    home = Path(server.directory) / "home" / teacher.login
    scripts = home / "sieve"
    scripts.mkdir(parents=True, exist_ok=True)
    broken = 'require "fileinto";\nif header :contains "subject" "x" { fileinto "A" }\n'
    (scripts / "perso.sieve").write_text(broken, encoding="utf-8")
    link = home / ".dovecot.sieve"
    link.unlink(missing_ok=True)
    link.symlink_to(scripts / "perso.sieve")
    for path in (home, scripts, scripts / "perso.sieve"):
        shutil.chown(path, "mail", "mail")
    client.force_login(teacher)

    response = client.post(
        reverse("mail_rules:new"),
        rule_form(
            "Ma règle à garder",
            condition_0_kind=sieve.FROM,
            condition_0_values=f"secretariat@{DOMAIN}",
            action_0_kind=sieve.SEEN,
        ),
    )

    page = text_of(response)
    assert response.status_code == 409
    assert "Le serveur de messagerie a refusé vos règles" in page
    assert "error" in response.content.decode().lower()
    assert 'value="Ma règle à garder"' in response.content.decode()
    assert (scripts / "perso.sieve").read_text(encoding="utf-8") == broken


def test_forwarding_outside_the_academie_is_refused(
    server: Dovecot, client: Any, teacher: Any
) -> None:
    client.force_login(teacher)
    response = client.post(
        reverse("mail_rules:new"),
        rule_form(
            "Tout vers Gmail",
            condition_0_kind=sieve.OTHER,
            action_0_kind=sieve.REDIRECT,
            action_0_address="moi@gmail.com",
        ),
    )
    assert response.status_code == 409
    assert "« moi@gmail.com » est extérieure" in text_of(response)
    assert "Gmail" not in active_text(teacher)


def test_forwarding_outside_when_the_academie_allows_it(settings: Any) -> None:
    settings.MAIL_RULES_FORWARD_OUTSIDE = True
    assert rules_actions.forward_allowed("moi@gmail.com")
    settings.MAIL_RULES_FORWARD_OUTSIDE = False
    assert not rules_actions.forward_allowed("moi@gmail.com")
    assert rules_actions.forward_allowed(f"collegue@{settings.MAIL_DOMAIN}")
    assert not rules_actions.forward_allowed(f"x@{settings.MAIL_DOMAIN}.evil.example")


@pytest.mark.parametrize("name", ["mail_rules:rules", "mail_rules:new", "mail_rules:vacation"])
def test_no_mailbox_no_page(client: Any, parent: Any, name: str) -> None:
    client.force_login(parent)
    assert client.get(reverse(name)).status_code == 403


def test_managesieve_down_is_the_branded_503(client: Any, teacher: Any, settings: Any) -> None:
    settings.MAIL_SIEVE_PORT = free_port()
    settings.MAIL_SIEVE_SECURITY = "none"
    client.force_login(teacher)
    response = client.get(reverse("mail_rules:rules"))
    assert response.status_code == 503
    assert response["Retry-After"]


def test_vacation_notice_fails_silently_when_managesieve_is_down(
    teacher: Any, settings: Any
) -> None:
    settings.MAIL_SIEVE_PORT = free_port()
    settings.MAIL_SIEVE_SECURITY = "none"
    assert rules_actions.vacation_notice(teacher) is None


def test_class_teachers_group_is_the_pupils_division(
    pupil: Any, teacher: Any, head_of_school: Any
) -> None:
    from convergence.accounts.models import Assignment, Role

    assignment = Assignment.objects.current().get(
        user=teacher, role=Role.ENSEIGNANT, establishment__uai="0250013D"
    )
    assignment.division = "4e B"
    assignment.save(update_fields=["division"])

    assert rules_actions.group_addresses(pupil, rules_actions.CLASS_TEACHERS) == (teacher.email,)
    assert rules_actions.group_addresses(pupil, rules_actions.DIRECTION) == (head_of_school.email,)
    assert rules_actions.group_addresses(teacher, rules_actions.CLASS_TEACHERS) == ()


def test_a_suspension_of_sending_switches_off_vacation_and_forwards(
    server: Dovecot,
    client: Any,
    teacher: Any,
    head_of_school: Any,
    dsi: Any,
    immediate_tasks: None,
) -> None:
    """A hijacked account's forwards and vacation replies leave through the mail server, not
    through the relay's submission: the DSI's suspension switches them off too, and they
    cannot be turned on again while it lasts."""
    client.force_login(teacher)
    today = timezone.localdate().isoformat()
    vacation = {
        "operation": "save",
        "start": today,
        "end": "",
        "subject": "Absente",
        "text": "Je lirai votre message à mon retour.",
        "days": "3",
    }
    assert client.post(reverse("mail_rules:vacation"), vacation).status_code == 302
    forward = rule_form(
        "Vers le principal",
        condition_0_kind=sieve.OTHER,
        action_0_kind=sieve.REDIRECT,
        action_0_address=head_of_school.email,
    )
    assert client.post(reverse("mail_rules:new"), forward).status_code == 302

    limits_actions.suspend_sending(acting_user=dsi, reason="Compte piraté", user=teacher)

    state = rules_actions.read_state(teacher)
    assert state.vacation is not None and not state.vacation.enabled
    assert [rule.enabled for rule in state.rules] == [False]
    assert AuditEvent.objects.filter(
        event_type="mail.rules_changed", subject=teacher, actor=dsi
    ).exists()
    again = client.post(reverse("mail_rules:vacation"), vacation)
    assert "suspendu" in text_of(again)
    assert not rules_actions.read_state(teacher).vacation.enabled  # type: ignore[union-attr]
