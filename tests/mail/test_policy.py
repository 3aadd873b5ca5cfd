# ruff: noqa: F811 - the fixtures imported below are test arguments of the same name
"""The sending limits through SMTP: deploy/mail/policy.py speaks Postfix's policy delegation
protocol and asks the portal; a hijacked pupil account sending with an app password through
the académie's real Postfix is stopped at the limit and the DSI alerted; the DSI's suspension
refuses the next message, app password or webmail token alike; a portal that is down or slow
defers (fails closed) within a bounded time."""

from __future__ import annotations

import http.server
import io
import smtplib
import socket
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from django.conf import settings
from django.core import mail as django_mail

from convergence.accounts.models import AccountState, User
from convergence.audit.models import AuditEvent
from convergence.mail import events
from convergence.mail.actions import create_app_password
from convergence.mail.limits_actions import lift_suspension, suspend_sending
from convergence.mail.models import SendingCount
from convergence.sso.actions.tokens import issue_first_party_token
from deploy.mail.dovecot import Dovecot
from deploy.mail.policy import (
    Answer,
    PolicyServer,
    Portal,
    ProtocolError,
    ascii_text,
    decide,
    read_request,
)
from deploy.mail.postfix import Postfix, free_port
from tests.conftest import stop_serving
from tests.mail.dovecot import SERVER_CLIENT_ID, SERVER_CLIENT_SECRET, dovecot, dovecot_instance  # noqa: F401 - fixtures
from tests.mail.postfix import postfix, postfix_instance  # noqa: F401 - fixtures

TIMEOUT = 12
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SECURITY = "securite-si@ac-besancon.fr"


def request_lines(**attributes: str) -> bytes:
    return "".join(f"{name}={value}\n" for name, value in attributes.items()).encode() + b"\n"


END_OF_MESSAGE = {
    "request": "smtpd_access_policy",
    "protocol_state": "END-OF-MESSAGE",
    "protocol_name": "ESMTP",
    "sasl_method": "PLAIN",
    "sasl_username": "lmartin",
    "recipient_count": "10",
    "client_address": "127.0.0.1",
    "instance": "1a2b.3c4d.0",
}


# --- The protocol -----------------------------------------------------------------------------


def test_requests_are_read_one_after_the_other_from_one_connection() -> None:
    stream = io.BytesIO(
        request_lines(**END_OF_MESSAGE) + b"\n" + request_lines(request="smtpd_access_policy")
    )
    assert read_request(stream) == END_OF_MESSAGE
    assert read_request(stream) == {"request": "smtpd_access_policy"}
    assert read_request(stream) is None


def test_values_keep_their_equal_signs_and_spaces() -> None:
    stream = io.BytesIO(b"request=smtpd_access_policy\nccert_subject=CN=a b=c\n\n")
    assert read_request(stream) == {"request": "smtpd_access_policy", "ccert_subject": "CN=a b=c"}


@pytest.mark.parametrize(
    "raw",
    [
        b"request=smtpd_access_policy\nnot an attribute\n\n",
        b"=value\n\n",
        b"request=smtpd_access_policy\n",  # closed inside a request
        b"name=" + b"x" * 5000 + b"\n\n",
        b"".join(f"a{n}=1\n".encode() for n in range(101)) + b"\n",
    ],
)
def test_malformed_requests_are_refused(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        read_request(io.BytesIO(raw))


def test_only_authenticated_end_of_message_requests_ask_the_portal() -> None:
    asked: list[dict[str, str]] = []

    def ask(attributes: dict[str, str]) -> Answer:
        asked.append(attributes)
        return Answer(allowed=True)

    assert decide({**END_OF_MESSAGE, "protocol_state": "RCPT"}, ask) == "action=DUNNO"
    assert decide({**END_OF_MESSAGE, "sasl_username": ""}, ask) == "action=DUNNO"
    assert decide({**END_OF_MESSAGE, "request": "other"}, ask) == "action=DUNNO"
    assert asked == []
    assert decide(END_OF_MESSAGE, ask) == "action=DUNNO"
    assert asked[0]["recipient_count"] == "10"


def test_refusals_are_permanent_or_temporary_and_in_ascii() -> None:
    def refuse(attributes: dict[str, str]) -> Answer:
        return Answer(allowed=False, text="Envoi suspendu pour votre établissement\r\nX")

    def later(attributes: dict[str, str]) -> Answer:
        return Answer(allowed=False, temporary=True, text="Réessayez")

    assert decide(END_OF_MESSAGE, refuse) == (
        "action=REJECT 5.7.1 Envoi suspendu pour votre etablissement X"
    )
    assert decide(END_OF_MESSAGE, later) == "action=DEFER_IF_PERMIT 4.7.1 Reessayez"
    assert decide({**END_OF_MESSAGE, "recipient_count": "x"}, refuse).startswith(
        "action=DEFER_IF_PERMIT 4.7.1"
    )
    assert ascii_text("l\u2019académie") == "l'academie"


# --- The daemon and the portal ----------------------------------------------------------------


@pytest.fixture
def policy_server(live_server: Any, mail_server_client: Any) -> Iterator[tuple[str, int]]:
    portal = Portal(
        {
            "portal_url": live_server.url,
            "client_id": SERVER_CLIENT_ID,
            "client_secret": SERVER_CLIENT_SECRET,
            "timeout_seconds": "5",
        }
    )
    server = PolicyServer(("127.0.0.1", 0), portal)
    thread = threading.Thread(target=server.serve_forever, name="policy", daemon=True)
    thread.start()
    yield server.server_address[0], server.server_address[1]
    stop_serving(server, thread)


def ask_daemon(address: tuple[str, int], *requests: dict[str, str]) -> list[str]:
    """Send ``requests`` on one connection, as Postfix does; the action lines."""
    answers = []
    with socket.create_connection(address, timeout=TIMEOUT) as connection:
        stream = connection.makefile("rwb")
        for attributes in requests:
            stream.write(request_lines(**attributes))
            stream.flush()
            action = stream.readline().decode().rstrip("\n")
            assert stream.readline() == b"\n"
            answers.append(action)
    return answers


@pytest.mark.django_db(transaction=True)
def test_daemon_counts_app_password_messages_and_not_the_webmails(
    policy_server: tuple[str, int], pupil: Any, dsi: Any
) -> None:
    app_password = {**END_OF_MESSAGE, "sasl_username": pupil.login}
    webmail = {**app_password, "sasl_method": "XOAUTH2"}

    answers = ask_daemon(
        policy_server, app_password, webmail, app_password, app_password, app_password
    )

    assert answers[:4] == ["action=DUNNO"] * 4
    assert answers[4].startswith("action=REJECT 5.7.1 Limite de 30 destinataires par heure")
    assert SendingCount.objects.get(user=pupil).recipients == 30

    suspension = suspend_sending(acting_user=dsi, user=pupil, reason="Piratage")
    assert ask_daemon(policy_server, webmail)[0].startswith(
        "action=REJECT 5.7.1 Envoi de messages suspendu pour votre compte"
    )
    lift_suspension(acting_user=dsi, suspension=suspension)
    assert ask_daemon(policy_server, webmail) == ["action=DUNNO"]


@pytest.mark.django_db(transaction=True)
def test_unknown_login_is_refused(policy_server: tuple[str, int]) -> None:
    answer = ask_daemon(policy_server, {**END_OF_MESSAGE, "sasl_username": "personne"})[0]
    assert answer.startswith("action=REJECT 5.7.1")


def test_portal_down_defers() -> None:
    portal = Portal(
        {
            "portal_url": f"http://127.0.0.1:{free_port()}",
            "client_id": "x",
            "client_secret": "y",
            "timeout_seconds": "2",
        }
    )
    assert decide(END_OF_MESSAGE, portal).startswith("action=DEFER_IF_PERMIT 4.7.1")


class _Slow(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        time.sleep(3)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"action": "allow"}')

    def log_message(self, *args: Any) -> None:
        pass


def test_slow_portal_defers_within_the_timeout() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="slow-portal", daemon=True)
    thread.start()
    try:
        portal = Portal(
            {
                "portal_url": f"http://127.0.0.1:{server.server_address[1]}",
                "client_id": "x",
                "client_secret": "y",
                "timeout_seconds": "0.5",
            }
        )
        started = time.monotonic()
        action = decide(END_OF_MESSAGE, portal)
        assert time.monotonic() - started < 2
    finally:
        stop_serving(server, thread)
    assert action.startswith("action=DEFER_IF_PERMIT 4.7.1")


# --- The académie's Postfix -------------------------------------------------------------------


def message(sender: str, recipients: list[str], subject: str) -> EmailMessage:
    built = EmailMessage()
    built["From"] = sender
    built["To"] = ", ".join(recipients)
    built["Subject"] = subject
    built.set_content("Bonjour,\n")
    return built


def submission(server: Postfix) -> smtplib.SMTP:
    connection = smtplib.SMTP("127.0.0.1", server.submission_port, timeout=TIMEOUT)
    connection.ehlo("telephone-vole")
    return connection


def own_address(person: Any) -> str:
    return f"{person.login}@{settings.MAIL_DOMAIN}"


@pytest.mark.django_db(transaction=True)
def test_hijacked_pupil_sending_to_500_people_with_an_app_password_is_stopped(
    postfix: Postfix, dovecot: Dovecot, pupil: Any, dsi: Any, settings: Any
) -> None:
    settings.TASKS = IMMEDIATE_TASKS
    settings.SECURITY_ALERT_EMAILS = [SECURITY]
    new = create_app_password(user=pupil, label="Téléphone de Léa", device="android")
    # Ten people of the académie (this Postfix refuses every other domain at RCPT).
    recipients = [
        own_address(person)
        for person in User.objects.filter(state=AccountState.ACTIVE).order_by("login")[:10]
    ]
    assert len(recipients) == 10
    outcomes: list[str] = []

    for batch in range(50):  # 50 messages of 10 recipients: 500
        # A connection each: Postfix drops a client after ten refusals, a bot comes back.
        with submission(postfix) as connection:
            connection.login(pupil.login, new.secret)
            try:
                connection.send_message(
                    message(own_address(pupil), recipients, f"Menace {batch}"),
                    to_addrs=recipients,
                )
                outcomes.append("sent")
            except smtplib.SMTPDataError as refused:
                outcomes.append(f"{refused.smtp_code} {refused.smtp_error.decode()}")

    assert outcomes[:3] == ["sent"] * 3
    assert all(outcome.startswith("5") and "5.7.1" in outcome for outcome in outcomes[3:])
    assert "Limite de 30 destinataires par heure atteinte" in outcomes[3]
    assert SendingCount.objects.get(user=pupil).recipients == 30
    reached = AuditEvent.objects.of_type(events.SENDING_LIMIT_REACHED).get()
    assert reached.subject == pupil
    assert reached.data["channel"] == "smtp"
    alerts = [m for m in django_mail.outbox if "Limite d'envoi" in m.subject]
    assert SECURITY in {address for m in alerts for address in m.to}


def webmail_token(person: Any) -> str:
    token, _expires = issue_first_party_token(
        user=person,
        client_id=settings.MAIL_WEBMAIL_CLIENT_ID,
        name="Messagerie",
        scope="mail",
        seconds=300,
    )
    return token


def xoauth2(connection: smtplib.SMTP, login: str, token: str) -> None:
    initial = f"user={login}\x01auth=Bearer {token}\x01\x01"
    answers = iter([initial, ""])
    connection.auth("XOAUTH2", lambda challenge=None: next(answers))


@pytest.mark.django_db(transaction=True)
def test_suspension_refuses_the_next_message_at_once_and_lifting_lets_it_go(
    postfix: Postfix, dovecot: Dovecot, teacher: Any, dsi: Any, head_of_school: Any
) -> None:
    new = create_app_password(user=teacher, label="Thunderbird", device="thunderbird")
    recipients = [head_of_school.email]
    suspension = suspend_sending(acting_user=dsi, user=teacher, reason="Piratage")

    with submission(postfix) as connection:
        connection.login(teacher.login, new.secret)
        with pytest.raises(smtplib.SMTPDataError) as app_password_refused:
            connection.send_message(
                message(teacher.email, recipients, "Réunion"), to_addrs=recipients
            )
    with submission(postfix) as connection:
        xoauth2(connection, teacher.login, webmail_token(teacher))
        with pytest.raises(smtplib.SMTPDataError) as token_refused:
            connection.send_message(
                message(teacher.email, recipients, "Réunion"), to_addrs=recipients
            )
    lift_suspension(acting_user=dsi, suspension=suspension)
    with submission(postfix) as connection:
        connection.login(teacher.login, new.secret)
        refused = connection.send_message(
            message(teacher.email, recipients, "Réunion"), to_addrs=recipients
        )

    assert app_password_refused.value.smtp_code // 100 == 5
    assert b"suspendu pour votre compte" in app_password_refused.value.smtp_error
    assert b"suspendu pour votre compte" in token_refused.value.smtp_error
    assert refused == {}


@pytest.mark.django_db(transaction=True)
def test_policy_service_down_defers_the_message(
    postfix: Postfix, dovecot: Dovecot, teacher: Any, head_of_school: Any
) -> None:
    new = create_app_password(user=teacher, label="Thunderbird", device="thunderbird")
    recipients = [head_of_school.email]
    postfix.stop_policy()
    try:
        with submission(postfix) as connection:
            connection.login(teacher.login, new.secret)
            with pytest.raises(smtplib.SMTPDataError) as deferred:
                connection.send_message(
                    message(teacher.email, recipients, "Réunion"), to_addrs=recipients
                )
    finally:
        postfix.start_policy()
    assert deferred.value.smtp_code // 100 == 4
