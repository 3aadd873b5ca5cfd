"""Mail sent while the SMTP server is down is queued, then delivered once it is back: nothing
lost, nothing sent twice. Against a real SMTP server (aiosmtpd, as the demo's) on loopback."""

from __future__ import annotations

import datetime
import email
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.test import Client
from django.utils import timezone

from convergence.accounts.models import User
from convergence.audit.models import AuditEvent
from convergence.core import personal_data, schedule
from convergence.outbox import actions, mail
from convergence.outbox.models import PendingMail, PendingMailState
from deploy.prodlike import free_port

TEMPLATE = "accounts/mail/login_reminder"
SECRET = "cle-secrete-42"  # stands for the link a message may hold
CONTEXT = {"accounts": [], "login_url": "https://portail/", "reset_url": f"https://p/{SECRET}/"}
LEA = "lea.martin@exemple.fr"
KARIM = "karim.martin@exemple.fr"
NOBODY = "personne@exemple.fr"  # the server refuses it for good (550)
LEA_HEAD = "philippe.girard@ac-besancon.fr"  # the head of school of Léa's collège
GREYLISTED = "plus.tard@exemple.fr"  # the server asks to try later (450)
LINK = re.compile(r"https?://[^/\s]+(/mot-de-passe-oublie/cle/[^/\s]+/)")
NEW_PASSWORD = "Baleine-Cerf-Grenade-Lampe-17"


class Collector:
    """An SMTP handler that keeps every accepted message and refuses some recipients."""

    def __init__(self) -> None:
        self.refused = {NOBODY}
        self.greylisted = {GREYLISTED}
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refused:
            return "550 5.1.1 Mailbox unavailable"
        if address in self.greylisted:
            return "450 4.2.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content or b""))
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        """Every address a message was accepted for, once per message."""
        return sorted(address for tos, _content in self.messages for address in tos)

    def bodies(self) -> list[str]:
        found = []
        for _tos, content in self.messages:
            parsed = email.message_from_bytes(content)
            payload = parsed.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found.append(payload.decode(parsed.get_content_charset() or "utf-8"))
        return found


class MailServer:
    """A real SMTP server on a loopback port, stopped until ``start`` (the port then closed)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.handler = Collector()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def server(settings: Any) -> Iterator[MailServer]:
    """The portal speaks SMTP to this server, which is down until the test starts it."""
    smtp = MailServer(free_port())
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp.port
    settings.EMAIL_TIMEOUT = 2
    settings.MAIL_RETRY_FIRST_SECONDS = 60
    settings.MAIL_RETRY_MAX_SECONDS = 3600
    settings.MAIL_RETRY_MAX_ATTEMPTS = 48
    yield smtp
    smtp.stop()


def later(minutes: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(minutes=minutes)


def queue_while_down(*addresses: str) -> list[PendingMail]:
    assert mail.send(list(addresses), TEMPLATE, CONTEXT)
    return list(PendingMail.objects.order_by("recipient"))


# --- The server is down: queued, not lost -------------------------------------------------


def test_mail_sent_while_the_server_is_down_is_queued_not_lost(
    db: None, server: MailServer
) -> None:
    before = timezone.now()

    rows = queue_while_down(LEA, KARIM)

    assert [row.recipient for row in rows] == [KARIM, LEA]  # one row per recipient
    for row in rows:
        assert row.state == PendingMailState.PENDING
        assert row.attempts == 1
        assert row.template == TEMPLATE
        assert SECRET in row.body
        assert row.last_error == "ConnectionRefusedError"
        wait = row.next_attempt_at - before
        assert datetime.timedelta(seconds=60) <= wait < datetime.timedelta(seconds=70)


def test_failures_are_logged_without_the_message(
    db: None, server: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="convergence.outbox"):
        queue_while_down(LEA)

    assert TEMPLATE in caplog.text
    assert SECRET not in caplog.text
    assert LEA not in caplog.text


def test_queued_mail_is_not_tried_before_its_time(db: None, server: MailServer) -> None:
    queue_while_down(LEA)
    server.start()

    assert actions.deliver_pending(now=later(0.5)) == 0

    assert server.handler.messages == []
    assert PendingMail.objects.count() == 1


# --- The server is back: each message once -----------------------------------------------


def test_queued_mail_is_delivered_once_after_recovery_and_deleted(
    db: None, server: MailServer
) -> None:
    queue_while_down(LEA, KARIM)
    server.start()

    assert actions.deliver_pending(now=later(2)) == 2

    assert server.handler.recipients() == [KARIM, LEA]
    assert all(SECRET in body for body in server.handler.bodies())
    assert not PendingMail.objects.exists()  # the rows held the message: gone once sent


def test_a_second_run_sends_nothing_again(db: None, server: MailServer) -> None:
    queue_while_down(LEA, KARIM)
    server.start()
    actions.deliver_pending(now=later(2))

    assert actions.deliver_pending(now=later(600)) == 0

    assert server.handler.recipients() == [KARIM, LEA]


def test_a_claimed_row_is_not_sent_by_another_worker(db: None, server: MailServer) -> None:
    [row] = queue_while_down(LEA)
    server.start()
    moment = later(2)

    assert actions.claim(row.pk, now=moment) is not None  # a first worker takes it
    assert actions.claim(row.pk, now=moment) is None  # the second gets nothing
    assert actions.deliver_pending(now=moment) == 0

    assert server.handler.messages == []


def test_a_row_whose_claimer_died_is_sent_after_the_lease(db: None, server: MailServer) -> None:
    [row] = queue_while_down(LEA)
    server.start()
    moment = later(2)
    actions.claim(row.pk, now=moment)  # and the worker dies before sending

    assert actions.deliver_pending(now=moment + actions.LEASE) == 1

    assert server.handler.recipients() == [LEA]


def test_two_workers_at_once_send_each_message_once(
    concurrent_db: None, server: MailServer, run_together: Any
) -> None:
    addresses = [f"eleve{number}@exemple.fr" for number in range(6)]
    queue_while_down(*addresses)
    server.start()
    moment = later(2)

    sent = run_together(2, lambda _number: actions.deliver_pending(now=moment))

    assert sum(sent) == 6
    assert server.handler.recipients() == sorted(addresses)
    assert not PendingMail.objects.exists()


# --- Backoff and giving up ----------------------------------------------------------------


def test_backoff_doubles_up_to_its_cap_then_the_mail_is_abandoned(
    db: None, server: MailServer, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.MAIL_RETRY_MAX_SECONDS = 300
    settings.MAIL_RETRY_MAX_ATTEMPTS = 6
    [row] = queue_while_down(LEA)
    waits = []

    with caplog.at_level(logging.WARNING, logger="convergence.outbox"):
        for _attempt in range(5):  # the server is still down
            moment = row.next_attempt_at
            assert actions.deliver_pending(now=moment) == 0
            row.refresh_from_db()
            if row.state == PendingMailState.PENDING:
                waits.append((row.next_attempt_at - moment).total_seconds())

    assert waits == [120, 240, 300, 300]
    assert (row.state, row.attempts, row.body) == (PendingMailState.ABANDONED, 6, "")
    assert "abandoned after 6 attempt(s)" in caplog.text
    [event] = AuditEvent.objects.filter(event_type="mail.abandoned")
    assert event.data["template"] == TEMPLATE
    assert event.data["attempts"] == 6
    server.start()
    assert actions.deliver_pending(now=later(60 * 24 * 7)) == 0
    assert server.handler.messages == []


def test_a_dead_server_costs_one_try_per_run(db: None, server: MailServer) -> None:
    queue_while_down(LEA, KARIM, NOBODY)

    assert actions.deliver_pending(now=later(2)) == 0

    attempts = sorted(PendingMail.objects.values_list("attempts", flat=True))
    assert attempts == [1, 1, 2]  # the others wait for the next run, no attempt counted


# --- Refusals -----------------------------------------------------------------------------


def test_a_recipient_refused_for_good_is_not_retried(db: None, server: MailServer) -> None:
    server.start()

    assert mail.send([LEA, NOBODY], TEMPLATE, CONTEXT)  # Léa got it: True

    assert server.handler.recipients() == [LEA]
    assert not PendingMail.objects.exists()


def test_a_message_nobody_will_receive_is_reported(db: None, server: MailServer) -> None:
    server.start()

    assert not mail.send([NOBODY], TEMPLATE, CONTEXT)

    assert server.handler.messages == []
    assert not PendingMail.objects.exists()


def test_a_recipient_refused_at_delivery_is_abandoned_not_retried(
    db: None, server: MailServer
) -> None:
    [row] = queue_while_down(NOBODY)
    server.start()

    assert actions.deliver_pending(now=later(2)) == 0

    row.refresh_from_db()
    assert (row.state, row.attempts, row.body) == (PendingMailState.ABANDONED, 2, "")
    assert row.last_error == "SMTPRecipientsRefused 550"
    assert AuditEvent.objects.filter(event_type="mail.abandoned").count() == 1
    assert actions.deliver_pending(now=later(600)) == 0


def test_a_temporary_refusal_is_tried_again(db: None, server: MailServer) -> None:
    server.start()

    assert mail.send([GREYLISTED], TEMPLATE, CONTEXT)

    [row] = PendingMail.objects.all()
    assert row.last_error == "SMTPRecipientsRefused 450"
    server.handler.greylisted.clear()
    assert actions.deliver_pending(now=later(2)) == 1
    assert server.handler.recipients() == [GREYLISTED]


# --- A password reset while the server is down --------------------------------------------


def test_password_reset_requested_while_smtp_is_down_arrives_once_with_a_working_link(
    client: Client, pupil: User, server: MailServer, immediate_tasks: None
) -> None:
    pupil.recovery_email, pupil.recovery_email_confirmed_at = LEA, timezone.now()
    pupil.save()

    asked = client.post("/mot-de-passe-oublie/", {"identifier": pupil.login, "channel": "email"})

    assert asked.url == "/mot-de-passe-oublie/envoye/"
    assert PendingMail.objects.filter(recipient=LEA).count() == 1
    # Queued is not failed: no failure audited, the account's send cap keeps its place.
    assert not AuditEvent.objects.filter(event_type="password.reset_delivery_failed").exists()

    server.start()
    assert actions.deliver_pending(now=later(2)) == 1
    assert actions.deliver_pending(now=later(4)) == 0

    assert server.handler.recipients() == [LEA]
    found = LINK.search(server.handler.bodies()[0])
    assert found, "no reset link in the message"
    opened = client.get(found.group(1))
    assert opened.url == "/mot-de-passe-oublie/nouveau/"
    done = client.post(opened.url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.url == "/mot-de-passe-oublie/termine/"
    pupil.refresh_from_db()
    assert pupil.check_password(NEW_PASSWORD)


# --- Schedule and personal data ------------------------------------------------------------


def test_pending_mail_is_delivered_every_minute_by_the_schedule() -> None:
    [job] = [job for job in schedule.jobs() if job.name == "deliver_pending_mail"]

    assert job.every == datetime.timedelta(minutes=1)
    assert job.task.module_path == "convergence.outbox.tasks.deliver_pending_mail"


def test_my_data_lists_mail_waiting_for_me_without_its_text(
    parent: User, server: MailServer
) -> None:
    queue_while_down(parent.email, LEA)  # the father's, and one to someone else

    data = personal_data.collect_personal_data(parent)

    [section] = [section for section in data["sections"] if section["key"] == "pending_mail"]
    [entry] = section["entries"]
    assert entry["Destinataire"] == parent.email == KARIM
    assert entry["Objet"] == PendingMail.objects.get(recipient=KARIM).subject
    assert entry["État"] == "en attente"
    assert SECRET not in personal_data.as_json(data).decode()


def test_my_data_does_not_list_mail_to_a_recovery_address_not_confirmed(
    pupil: User, server: MailServer
) -> None:
    """A pupil who types the head of school's address as their recovery address, without
    confirming it, must not read the mail waiting for him."""
    pupil.recovery_email = LEA_HEAD
    pupil.recovery_email_confirmed_at = None
    pupil.save(update_fields=["recovery_email", "recovery_email_confirmed_at"])
    queue_while_down(LEA_HEAD)

    data = personal_data.collect_personal_data(pupil)

    [section] = [section for section in data["sections"] if section["key"] == "pending_mail"]
    assert section["entries"] == []


def test_the_administration_cannot_filter_on_the_hidden_text(dsi: User, server: MailServer) -> None:
    """A reader of the admin list rebuilding a queued reset link with ``?body__contains=``."""
    queue_while_down(LEA)
    client = Client()
    client.force_login(dsi)

    probe = client.get("/administration/outbox/pendingmail/", {"body__contains": SECRET[:8]})
    allowed = client.get("/administration/outbox/pendingmail/", {"state": "pending"})

    assert probe.status_code in (302, 400)  # Django refuses the filter (?e=1 or 400)
    assert allowed.status_code == 200


def test_abandoned_mail_is_deleted_after_thirty_days(db: None, server: MailServer) -> None:
    [old, recent] = queue_while_down(KARIM, LEA)
    PendingMail.objects.filter(pk__in=[old.pk, recent.pk]).update(
        state=PendingMailState.ABANDONED, body=""
    )
    PendingMail.objects.filter(pk=old.pk).update(created_at=later(-31 * 24 * 60))

    assert actions.purge_abandoned_mail() == 1
    assert list(PendingMail.objects.values_list("pk", flat=True)) == [recent.pk]


def test_a_slow_run_leaves_the_rest_to_the_next_rather_than_claim_past_its_lease(
    db: None, server: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_while_down(LEA, KARIM)
    server.start()
    clock = iter([0.0, 0.0, actions.LEASE.total_seconds()])  # the second row comes too late
    monkeypatch.setattr(actions, "_clock", lambda: next(clock))

    assert actions.deliver_pending(now=later(2)) == 1
    assert PendingMail.objects.count() == 1
