"""The « me notifier » alerts: a person's rule asked to be told when a message arrives.

The mail server runs the rule at delivery (Pigeonhole's ``execute :pipe "convergence-notify"``
running ``deploy/mail/notify.py``, or the demo's delivery step) and tells the portal through
``POST /messagerie/serveur/notification/``; :func:`record_alert` writes the
:class:`~convergence.mail.models.MailAlert` that the dashboard's mail widget and the banner
of the mail pages show until the person opens or dismisses it.

Not audited: an alert is a notification about a message, not a decision of anyone's, and
every delivered message of a busy person could raise one; the row itself is the record.
Limits: :data:`settings.MAIL_ALERTS_PER_HOUR` per person (atomic, failing closed), one alert
per message (its Message-ID), only for people with an académie mailbox.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from convergence.accounts.models import AccountState, User
from convergence.accounts.permissions import has_academic_mailbox
from convergence.core import ratelimit
from convergence.core.notify import TITLE_LENGTH, URL_LENGTH, Category, notify
from convergence.mail.actions import _login_of
from convergence.mail.mailbox import INBOX
from convergence.mail.models import MailAlert, MailAlertQuerySet

WINDOW_SECONDS = 3600
FIELD_LENGTH = 255
SHOWN = 3
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AlertsLimited(Exception):
    """Too many alerts for this person this hour; ``retry_after`` seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


def _clean(value: str) -> str:
    """One line of at most 255 characters, without control characters."""
    return " ".join(_CONTROL.sub(" ", value).split())[:FIELD_LENGTH]


def mailbox_owner(typed: str) -> User | None:
    """The active person with an académie mailbox that the mail server names: a login,
    ``login@domain`` or the person's address (Pigeonhole gives the login, the envelope
    recipient is an address); ``None`` otherwise."""
    login = _login_of(typed or "")
    if not login:
        return None
    user = User.objects.filter(login=login, state=AccountState.ACTIVE).first()
    if user is None or not has_academic_mailbox(user):
        return None
    return user


def record_alert(
    *, user: User, sender: str, subject: str, message_id: str = "", server: str = ""
) -> MailAlert | None:
    """Record that a message from ``sender`` about ``subject`` arrived for ``user`` and one
    of their rules asked to be told. The new alert, or ``None`` when this message
    (``message_id``) already raised one.

    The single place a mail alert is written; it also calls ``core.notify.notify`` (category
    messagerie, in the same transaction), so that the notification centre and every channel
    the person chose hear of the message. The ``MailAlert`` row stays: it is what the banner
    of the mail pages and the dashboard's mail widget show, and what « Voir le message »
    looks the message up by.

    One transaction; the person's row is locked so that a message delivered twice at once
    raises one alert. Counted against :data:`settings.MAIL_ALERTS_PER_HOUR` for the person
    (a duplicate is not counted): past it :class:`AlertsLimited`; the shared counter being
    unreachable raises :class:`ratelimit.LimiterUnavailable` (callers answer 503).
    Not audited (see the module).
    """
    message_id = _clean(message_id)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if message_id and MailAlert.objects.of(user).filter(message_id=message_id).exists():
            return None
        wait = ratelimit.hit(
            ratelimit.key("mail-alert", user.pk),
            limit=settings.MAIL_ALERTS_PER_HOUR,
            window=WINDOW_SECONDS,
        )
        if wait:
            raise AlertsLimited(wait)
        alert = MailAlert.objects.create(
            user=user,
            sender=_clean(sender),
            subject=_clean(subject),
            message_id=message_id,
        )
        _notify(alert)
        return alert


def _notify(alert: MailAlert) -> None:
    """The alert in the notification centre, leading to the message (searched in the INBOX
    by its sender and subject, as « Voir le message » does)."""
    address = parseaddr(alert.sender)[1]
    search = {"dossier": INBOX, "de": address or alert.sender, "objet": alert.subject}
    url = f"{reverse('mail:search')}?{urlencode(search)}"
    notify(
        [alert.user],
        category=Category.MESSAGERIE,
        title=(_("Nouveau message de %(sender)s") % {"sender": alert.sender})[:TITLE_LENGTH],
        body=alert.subject,
        url=url if len(url) <= URL_LENGTH else reverse("mail:inbox"),
        key=f"mail-alert:{alert.pk}",
    )


def mark_alert_seen(*, user: User, alert: MailAlert) -> bool:
    """The person saw ``alert`` (opened the message or dismissed the banner); True when it
    was still unseen. Not audited (see the module)."""
    return bool(
        MailAlert.objects.of(user).filter(pk=alert.pk).unseen().update(seen_at=timezone.now())
    )


def unseen_of(user: User) -> MailAlertQuerySet:
    """The person's alerts not seen yet, newest first."""
    return MailAlert.objects.of(user).unseen().order_by("-received_at", "-pk")
