"""Mail sent to people about their account: one place renders and sends it.

Messages are plain text in French, rendered from ``accounts/mail/<name>_subject.txt`` and
``accounts/mail/<name>_body.txt``. Sending failures are logged without the message (it may
hold a link or a code) and never break the page that sent it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from .models import AccountState, Assignment, Role, User

logger = logging.getLogger(__name__)


def render_mail(name: str, context: dict[str, Any]) -> tuple[str, str]:
    full = {"academie_name": settings.ACADEMIE_NAME, **context}
    subject = render_to_string(f"accounts/mail/{name}_subject.txt", full)
    body = render_to_string(f"accounts/mail/{name}_body.txt", full)
    return " ".join(subject.split()), body


def send_account_mail(to: Iterable[str], name: str, context: dict[str, Any]) -> bool:
    """Send one message to each address given; returns whether it went out."""
    recipients = sorted({address for address in to if address})
    if not recipients:
        return False
    subject, body = render_mail(name, context)
    try:
        for address in recipients:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
    except Exception:  # a mail server that is down must not break the page
        logger.warning("Message %s not sent to %d recipient(s)", name, len(recipients))
        return False
    return True


def contact_address(user: User) -> str:
    """Where to write to someone about their account: confirmed recovery address first."""
    if user.recovery_email and user.recovery_email_confirmed_at:
        return user.recovery_email
    return user.email


def dsi_addresses(*, excluding: Iterable[User] = ()) -> list[str]:
    """Contact addresses of the active DSI accounts this school year, but ``excluding``."""
    dsi = User.objects.filter(
        state=AccountState.ACTIVE,
        pk__in=Assignment.objects.current().filter(role=Role.DSI).values("user"),
    ).exclude(pk__in=[person.pk for person in excluding])
    return sorted({address for address in map(contact_address, dsi) if address})


def guardian_addresses(pupil: User) -> list[str]:
    parents = User.objects.filter(guardianships__pupil=pupil)
    return [address for address in (contact_address(parent) for parent in parents) if address]


def notify_guardians(pupil: User, name: str, context: dict[str, Any]) -> bool:
    """Tell a pupil's legal guardians (their contact e-mail) about an act on the account."""
    return send_account_mail(guardian_addresses(pupil), name, {"pupil": pupil, **context})
