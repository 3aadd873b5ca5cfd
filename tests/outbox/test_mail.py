"""E-mail through the outbox: rendered from the app's templates, and a mail server that is down
never breaks the caller."""

from __future__ import annotations

import socket

from django.core import mail as django_mail

from convergence.outbox import mail
from convergence.outbox.models import PendingMail


def test_a_message_is_rendered_from_the_app_s_templates(db) -> None:
    sent = mail.send(
        ["lea.martin@example.org", "", "lea.martin@example.org"],
        "accounts/mail/login_reminder",
        {"logins": ["lmartin"], "login_url": "https://portail/", "reset_url": "https://p/"},
    )
    assert sent
    assert len(django_mail.outbox) == 1  # one per distinct address, blanks ignored
    message = django_mail.outbox[0]
    assert message.to == ["lea.martin@example.org"]
    assert "\n" not in message.subject


def test_no_address_sends_nothing(db) -> None:
    assert not mail.send(["", ""], "accounts/mail/login_reminder", {})
    assert django_mail.outbox == []


def test_a_mail_server_that_refuses_is_reported_not_raised(db, settings) -> None:
    """A real SMTP connection to a port where nothing listens: ``send`` queues the message
    for another try and answers True (tests/outbox/test_mail_retry.py tells the rest)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_TIMEOUT = 2
    assert mail.send(["lea.martin@example.org"], "accounts/mail/login_reminder", {})
    assert PendingMail.objects.filter(recipient="lea.martin@example.org").count() == 1
