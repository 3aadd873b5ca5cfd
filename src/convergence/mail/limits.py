"""Sending limits: how many recipients one person may write to, from the webmail and from any
mail client alike, and the DSI's suspensions of sending.

* **Counted in the database** (``SendingCount``: one row per person and clock hour), the one
  place the webmail and the mail relay's policy service (``deploy/mail/policy.py``, through
  ``/messagerie/serveur/envoi/``) both reach. A reservation is one transaction: the hour's row
  is created if missing (``INSERT … ON CONFLICT DO NOTHING``), locked (``SELECT … FOR
  UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers), then
  increased by a *conditional* ``UPDATE … SET recipients = recipients + n WHERE recipients <=
  ceiling``: two parallel reservations can never both pass the limit.
* **The day is a rolling 24 hours** (the current hour's row and the 23 before it), not the
  calendar day: otherwise a stolen account could spend a day's allowance at 23:59 and another
  at 0:00.
* **Fails closed**: a database error refuses the message (the webmail keeps it as a draft, the
  relay answers « try later »).
* **Suspensions** (``SendingSuspension``) of the person or of any establishment where they hold
  a role this school year refuse everything, at once: every message asks here first.
* **Past a limit**: the person is told in French, the refusal is audited and the DSI alerted
  by e-mail — once per person and hour (``limits_actions.record_limit_reached``).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Sum
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from convergence.accounts.models import Assignment, Role, User
from convergence.accounts.permissions import has_academic_mailbox
from convergence.mail import limits_actions
from convergence.mail.models import SendingCount, SendingSuspension

logger = logging.getLogger(__name__)

HOUR = datetime.timedelta(hours=1)
DAY_HOURS = 24
# SASL mechanisms of the webmail's own tokens: the webmail counted its recipients before
# submitting, the relay only checks suspensions for them (no double counting).
BEARER_METHODS = frozenset({"XOAUTH2", "OAUTHBEARER"})
# One message never names more recipients than this (Postfix's smtpd_recipient_limit is 100).
MAX_RECIPIENTS_PER_CALL = 10_000

OK = "ok"
SUSPENDED = "suspended"
HOUR_LIMIT = "hour"
DAY_LIMIT = "day"
UNAVAILABLE = "unavailable"
NO_MAILBOX = "no_mailbox"


@dataclass(frozen=True)
class Limits:
    per_hour: int
    per_day: int


@dataclass(frozen=True)
class Verdict:
    """The answer to a reservation: allowed, or why not in French (``reason`` for the webmail,
    ``smtp_text`` for a mail client, its accents taken off by the relay: SMTP is ASCII)."""

    allowed: bool
    kind: str = OK
    reason: str = ""
    smtp_text: str = ""
    hour: datetime.datetime | None = None

    @property
    def temporary(self) -> bool:
        """Whether the same message may pass later without anyone acting (try again)."""
        return self.kind == UNAVAILABLE


ALLOWED = Verdict(allowed=True)


class SendingRefused(Exception):
    """A message refused by the sending limits or a suspension; ``verdict`` says why."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.kind)
        self.verdict = verdict


def limits_of(user: User) -> Limits:
    """Staff limits for anyone holding a staff role this school year, else a pupil's."""
    staff = (
        Assignment.objects.current()
        .filter(user=user)
        .exclude(role__in=[Role.ELEVE, Role.PARENT])
        .exists()
    )
    if staff:
        return Limits(
            settings.MAIL_RECIPIENTS_PER_HOUR_STAFF, settings.MAIL_RECIPIENTS_PER_DAY_STAFF
        )
    return Limits(settings.MAIL_RECIPIENTS_PER_HOUR_PUPIL, settings.MAIL_RECIPIENTS_PER_DAY_PUPIL)


def suspension_for(user: User) -> SendingSuspension | None:
    """The suspension in force for ``user`` or one of their establishments this year, if any
    (the most recent)."""
    return (
        SendingSuspension.objects.covering(user)
        .select_related("establishment")
        .order_by("-created_at")
        .first()
    )


def _suspended(suspension: SendingSuspension) -> Verdict:
    if suspension.establishment is not None:
        reason = _(
            "L'envoi de messages est suspendu pour les comptes de l'établissement "
            "%(establishment)s par le service informatique de l'académie (motif : "
            "%(reason)s). Vous pouvez toujours lire vos messages ; contactez l'assistance "
            "pour en savoir plus."
        ) % {"establishment": suspension.establishment.name, "reason": suspension.reason}
        smtp_text = _("Envoi de messages suspendu pour votre établissement par l'académie")
    else:
        reason = _(
            "L'envoi de messages est suspendu pour votre compte par le service informatique "
            "de l'académie (motif : %(reason)s). Vous pouvez toujours lire vos messages ; "
            "contactez l'assistance pour en savoir plus."
        ) % {"reason": suspension.reason}
        smtp_text = _("Envoi de messages suspendu pour votre compte par l'académie")
    return Verdict(allowed=False, kind=SUSPENDED, reason=reason, smtp_text=smtp_text)


def _unavailable() -> Verdict:
    return Verdict(
        allowed=False,
        kind=UNAVAILABLE,
        reason=_(
            "L'envoi de messages est momentanément impossible : les limites d'envoi ne "
            "peuvent pas être vérifiées. Réessayez dans quelques minutes."
        ),
        smtp_text=_("Limites d'envoi momentanément invérifiables, réessayez plus tard"),
    )


def _no_mailbox() -> Verdict:
    return Verdict(
        allowed=False,
        kind=NO_MAILBOX,
        reason=_("Votre compte n'a pas de boîte aux lettres de l'académie."),
        smtp_text=_("Ce compte ne peut pas envoyer de messages"),
    )


def _over(kind: str, limits: Limits, count: int, hour: datetime.datetime) -> Verdict:
    next_hour = formats.time_format(timezone.localtime(hour + HOUR), "H:i")
    if kind == HOUR_LIMIT and count > limits.per_hour:
        reason = _(
            "Ce message a %(count)d destinataires : c'est plus que les %(limit)d que votre "
            "compte peut écrire en une heure. Envoyez-le en plusieurs fois, ou demandez à "
            "l'assistance."
        ) % {"count": count, "limit": limits.per_hour}
    elif kind == HOUR_LIMIT:
        reason = _(
            "Vous avez atteint la limite de %(limit)d destinataires par heure : ce message "
            "n'est pas parti. Vous pourrez l'envoyer après %(time)s."
        ) % {"limit": limits.per_hour, "time": next_hour}
    else:
        reason = _(
            "Vous avez atteint la limite de %(limit)d destinataires sur 24 heures : ce message "
            "n'est pas parti. Si vous devez écrire à beaucoup de personnes, contactez "
            "l'assistance."
        ) % {"limit": limits.per_day}
    smtp_text = (
        _("Limite de %(limit)d destinataires par heure atteinte, message refusé")
        % {"limit": limits.per_hour}
        if kind == HOUR_LIMIT
        else _("Limite de %(limit)d destinataires sur 24 heures atteinte, message refusé")
        % {"limit": limits.per_day}
    )
    return Verdict(allowed=False, kind=kind, reason=reason, smtp_text=smtp_text)


def current_hour(now: datetime.datetime | None = None) -> datetime.datetime:
    """The clock hour (UTC) ``now`` falls in: the key of its ``SendingCount`` row."""
    now = timezone.now() if now is None else now
    return now.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)


def reserve_recipients(
    user: User,
    count: int,
    *,
    channel: str = "webmail",
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> Verdict:
    """Take ``count`` recipients from ``user``'s allowance, or refuse the whole message.

    Atomic (one transaction, a conditional ``UPDATE``), failing closed (a database error is
    a refusal). A suspension refuses everything; past a limit the refusal is audited and the
    DSI alerted once per person and hour. Nothing is taken from the allowance when refused.
    """
    if count <= 0:
        return ALLOWED
    count = min(count, MAX_RECIPIENTS_PER_CALL)
    try:
        suspension = suspension_for(user)
        if suspension is not None:
            return _suspended(suspension)
        if not has_academic_mailbox(user):
            return _no_mailbox()
        limits = limits_of(user)
        hour = current_hour(now)
        with transaction.atomic():
            SendingCount.objects.bulk_create(
                [SendingCount(user=user, hour=hour, recipients=0)], ignore_conflicts=True
            )
            # Locks the person's row for the rest of the transaction (PostgreSQL): parallel
            # reservations of the same person wait here and read the sum after this one.
            row = SendingCount.objects.select_for_update().get(user=user, hour=hour)
            earlier = (
                SendingCount.objects.filter(
                    user=user, hour__gt=hour - DAY_HOURS * HOUR, hour__lt=hour
                ).aggregate(total=Sum("recipients"))["total"]
                or 0
            )
            ceiling = min(limits.per_hour, limits.per_day - earlier) - count
            passed = ceiling >= 0 and bool(
                SendingCount.objects.filter(pk=row.pk, recipients__lte=ceiling).update(
                    recipients=F("recipients") + count
                )
            )
    except DatabaseError:
        logger.warning("Sending limits of %s not checked (database): refused.", user.pk)
        return _unavailable()
    if passed:
        return Verdict(allowed=True, hour=hour)
    kind = HOUR_LIMIT if row.recipients + count > limits.per_hour else DAY_LIMIT
    limits_actions.record_limit_reached(
        user=user,
        kind=kind,
        attempted=count,
        sent_this_hour=row.recipients,
        sent_today=earlier + row.recipients,
        per_hour=limits.per_hour,
        per_day=limits.per_day,
        channel=channel,
        request=request,
    )
    return _over(kind, limits, count, hour)


def release_recipients(user: User, count: int, hour: datetime.datetime | None) -> None:
    """Give back ``count`` recipients reserved in ``hour`` for a message that did not leave
    (the mail server down or refusing it); never raises, never below zero."""
    if count <= 0 or hour is None:
        return
    try:
        SendingCount.objects.filter(user=user, hour=hour, recipients__gte=count).update(
            recipients=F("recipients") - count
        )
    except DatabaseError:
        logger.warning("Reserved recipients of %s not given back (database).", user.pk)


def check_submission(
    *, login: str, recipients: int, sasl_method: str, request: HttpRequest | None = None
) -> Verdict:
    """The mail relay asks before accepting a message of ``login`` for ``recipients``.

    A session opened with the webmail's token (XOAUTH2, OAUTHBEARER) was counted by the
    webmail: only a suspension refuses it. Any other (an app password) reserves here. An
    unknown or inactive login is refused.
    """
    try:
        user = User.objects.filter(login=login.strip().lower()[:150]).first()
        if user is None or not user.is_active:
            return _no_mailbox()
        if sasl_method.strip().upper() in BEARER_METHODS:
            suspension = suspension_for(user)
            return ALLOWED if suspension is None else _suspended(suspension)
    except DatabaseError:
        return _unavailable()
    return reserve_recipients(user, recipients, channel="smtp", request=request)


def suspension_notice(user: Any) -> str:
    """What compose shows a suspended person before they write ("" otherwise, and when the
    database cannot say: sending then refuses anyway)."""
    if not isinstance(user, User):
        return ""
    try:
        suspension = suspension_for(user)
    except DatabaseError:
        return ""
    return _suspended(suspension).reason if suspension is not None else ""
