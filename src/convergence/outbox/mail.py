"""E-mail to people: one place renders and sends it, with the SMTP timeout of the settings.

A message is plain text in French, rendered from ``<template>_subject.txt`` and
``<template>_body.txt`` (``template`` names the app's folder, e.g. ``mfa/mail/mfa_changed``).
Sending failures are logged without the message (it may hold a link or a code) and never break
the page or the task that sent it; ``EMAIL_TIMEOUT`` bounds how long a mail server that does
not answer can hold it.

A message the mail server cannot take now (down, refusing connections, timing out, a 4xx
answer) is not lost: ``send`` keeps it as a ``PendingMail`` row, one per recipient, and
``outbox.actions.deliver_pending`` (run every minute by the schedule) tries it again with a
growing delay. A recipient the server refuses for good (a 5xx answer to ``RCPT TO``) is
logged and not tried again. This module is the only one that speaks SMTP; it translates the
protocol's errors into ``MailDeferred`` (try later) and ``MailRefused`` (never).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import smtplib
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import DatabaseError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from convergence.outbox.models import PendingMail

logger = logging.getLogger(__name__)


class MailError(Exception):
    """A message did not go out; ``reason`` says why in a few words, never with its content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:200]


class MailDeferred(MailError):
    """The message may go out later: a temporary refusal (4xx) of the recipient."""


class MailServerUnavailable(MailDeferred):
    """The mail server cannot be reached, timed out or failed: every message waits."""


class MailRefused(MailError):
    """The message will never go out as it is (the recipient refused for good): not retried."""


def render(template: str, context: dict[str, Any]) -> tuple[str, str]:
    """The subject (on one line) and body of a message."""
    full = {"academie_name": settings.ACADEMIE_NAME, **context}
    subject = render_to_string(f"{template}_subject.txt", full)
    body = render_to_string(f"{template}_body.txt", full)
    return " ".join(subject.split()), body


def open_connection() -> BaseEmailBackend:
    """A connection to the mail backend of the settings, opened by the first ``transmit`` and
    kept for the next ones until ``close_connection``."""
    return get_connection(timeout=settings.EMAIL_TIMEOUT)


def close_connection(connection: BaseEmailBackend) -> None:
    """Close ``connection``, whatever state the server left it in; the next message reopens it."""
    with contextlib.suppress(smtplib.SMTPException, OSError):
        connection.close()


def _reason(error: BaseException) -> str:
    """The error's kind and SMTP code, never its text (a server may echo the address)."""
    code = getattr(error, "smtp_code", None)
    return f"{type(error).__name__} {code}" if code else type(error).__name__


def transmit(connection: BaseEmailBackend, *, recipient: str, subject: str, body: str) -> None:
    """Hand one message for one address to the mail server over ``connection``.

    Raises ``MailServerUnavailable`` (server down, timeout, dropped connection, any other SMTP
    error: the connection is closed, so the next call reconnects), ``MailDeferred`` (the
    recipient refused with a 4xx: the connection stays usable) or ``MailRefused`` (the
    recipient refused with a 5xx, or a message that cannot be built).
    """
    message = EmailMessage(
        subject, body, settings.DEFAULT_FROM_EMAIL, [recipient], connection=connection
    )
    try:
        # Opened here rather than by send(), which would close it after each message.
        connection.open()
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        # smtplib reset the session (RSET) before raising: the connection can go on.
        codes = [code for code, _text in error.recipients.values()]
        reason = f"SMTPRecipientsRefused {codes[0] if codes else ''}".strip()
        if codes and all(code >= 500 for code in codes):
            raise MailRefused(reason) from error
        raise MailDeferred(reason) from error
    except (smtplib.SMTPException, OSError) as error:
        close_connection(connection)
        raise MailServerUnavailable(_reason(error)) from error
    except Exception as error:  # a header Django refuses: no retry would change it
        raise MailRefused(_reason(error)) from error


def retry_delay(attempts: int) -> datetime.timedelta:
    """How long to wait after the ``attempts``-th failed try: ``MAIL_RETRY_FIRST_SECONDS``,
    doubled at each further try, at most ``MAIL_RETRY_MAX_SECONDS``."""
    first = settings.MAIL_RETRY_FIRST_SECONDS
    cap = settings.MAIL_RETRY_MAX_SECONDS
    # The exponent is bounded so that a large attempt count does not build a huge integer.
    seconds = min(first * 2 ** min(max(attempts - 1, 0), 32), cap)
    return datetime.timedelta(seconds=seconds)


def send(to: Iterable[str], template: str, context: dict[str, Any]) -> bool:
    """Send one message to each address given; True if it went out or is safely queued.

    Each distinct address is tried once, now. An address the server cannot take now is kept
    as a ``PendingMail`` row (tried again by ``outbox.actions.deliver_pending``); once the
    server is found unreachable, the remaining addresses are queued without trying, so a dead
    server costs one ``EMAIL_TIMEOUT``, not one per address. An address refused for good is
    logged and dropped.

    Returns False only when nobody will get the message: no address, or every address
    refused for good. When only some are refused, the others got it (or will): True, and the
    refusals are in the log. Callers with a single recipient (a reset link, an alert) thus
    read False as "this person will not receive it".
    """
    recipients = sorted({address for address in to if address})
    if not recipients:
        return False
    subject, body = render(template, context)
    connection = open_connection()
    delivered = 0
    deferred: list[tuple[str, str]] = []
    reason_server_down = ""
    try:
        for address in recipients:
            if reason_server_down:
                deferred.append((address, reason_server_down))
                continue
            try:
                transmit(connection, recipient=address, subject=subject, body=body)
            except MailServerUnavailable as error:
                reason_server_down = error.reason
                deferred.append((address, error.reason))
            except MailDeferred as error:
                deferred.append((address, error.reason))
            except MailRefused as error:
                logger.warning("Message %s refused for one recipient (%s)", template, error.reason)
            else:
                delivered += 1
    finally:
        close_connection(connection)
    if deferred and not _queue(deferred, template=template, subject=subject, body=body):
        return delivered > 0
    return delivered + len(deferred) > 0


def _queue(deferred: list[tuple[str, str]], *, template: str, subject: str, body: str) -> bool:
    """Keep the messages the server did not take as ``PendingMail`` rows; False if the
    database refused them too (then they are lost, and the log says so)."""
    now = timezone.now()
    try:
        # A savepoint: a caller inside a transaction can go on if this insert fails.
        with transaction.atomic():
            PendingMail.objects.bulk_create(
                PendingMail(
                    recipient=address,
                    subject=subject,
                    body=body,
                    template=template,
                    created_at=now,
                    attempts=1,
                    next_attempt_at=now + retry_delay(1),
                    last_error=reason,
                )
                for address, reason in deferred
            )
    except DatabaseError as error:
        # The error's text is left out: a database may quote the failing row, link included.
        logger.error(
            "Message %s not sent to %d recipient(s) and not queued (%s)",
            template,
            len(deferred),
            type(error).__name__,
        )
        return False
    logger.warning(
        "Message %s not sent to %d recipient(s) (%s): queued for another try",
        template,
        len(deferred),
        deferred[0][1],
    )
    return True
