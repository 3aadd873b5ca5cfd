"""E-mail to people: one place renders and sends it, with the SMTP timeout of the settings.

A message is plain text in French, rendered from ``<template>_subject.txt`` and
``<template>_body.txt`` (``template`` names the app's folder, e.g. ``mfa/mail/mfa_changed``).
Sending failures are logged without the message (it may hold a link or a code) and never break
the page or the task that sent it; ``EMAIL_TIMEOUT`` bounds how long a mail server that does
not answer can hold it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def render(template: str, context: dict[str, Any]) -> tuple[str, str]:
    """The subject (on one line) and body of a message."""
    full = {"academie_name": settings.ACADEMIE_NAME, **context}
    subject = render_to_string(f"{template}_subject.txt", full)
    body = render_to_string(f"{template}_body.txt", full)
    return " ".join(subject.split()), body


def send(to: Iterable[str], template: str, context: dict[str, Any]) -> bool:
    """Send one message to each address given; returns whether it went out."""
    recipients = sorted({address for address in to if address})
    if not recipients:
        return False
    subject, body = render(template, context)
    try:
        connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
        for address in recipients:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address], connection=connection)
    except Exception:  # a mail server that is down must not break the page
        logger.warning("Message %s not sent to %d recipient(s)", template, len(recipients))
        return False
    return True
