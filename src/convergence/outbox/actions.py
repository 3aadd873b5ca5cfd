"""Writes of the outbox: delivering the e-mails the mail server could not take at first."""

from __future__ import annotations

import datetime
import logging
import time

from django.conf import settings
from django.utils import timezone

from convergence.audit.actions import record_event
from convergence.outbox import events, mail
from convergence.outbox.models import PendingMail, PendingMailState

logger = logging.getLogger(__name__)

# How long a claimed row is left to its claimer before another may try it (a worker that died
# after claiming). Far beyond one SMTP transaction, which EMAIL_TIMEOUT bounds per step.
LEASE = datetime.timedelta(minutes=5)
# The run's own stopwatch (a test makes a run slow without waiting).
_clock = time.monotonic


def claim(pk: int, *, now: datetime.datetime) -> datetime.datetime | None:
    """Take the row ``pk`` for this caller if it is due at ``now``; the lease's end, or None.

    One UPDATE whose WHERE clause says "due and pending" pushes the row's next try past
    ``LEASE``: the database serialises concurrent updates of a row (PostgreSQL, at READ
    COMMITTED, re-checks the condition on the row the winner committed; SQLite has a single
    writer), so exactly one racing caller updates it and the others get None — the same
    pattern as ``core.schedule.claim``.
    """
    until = now + LEASE
    taken = PendingMail.objects.due(now).filter(pk=pk).update(next_attempt_at=until)
    return until if taken == 1 else None


def deliver_pending(*, now: datetime.datetime | None = None, limit: int = 200) -> int:
    """Send the queued e-mails that are due (at most ``limit``); how many went out.

    Guarantees:

    * **Never sent twice at once.** Each row is claimed (``claim``) just before it is sent, so
      two workers or hosts running this together never send the same row; a row whose
      claimer died is tried again once its lease (``LEASE``) has run out.
    * **Not kept once sent.** The row holds a link or a code: it is deleted as soon as the
      server has accepted the message.
    * **At least once, like any mail server.** A crash between the server's acceptance and
      the DELETE leaves the row, which is sent again after its lease: the only window for a
      duplicate.
    * **Backoff.** A failed try counts one more attempt and waits ``mail.retry_delay``
      (``MAIL_RETRY_FIRST_SECONDS`` doubled at each try, at most ``MAIL_RETRY_MAX_SECONDS``);
      after ``MAIL_RETRY_MAX_ATTEMPTS`` attempts, or a recipient refused for good, the row is
      ``abandoned`` (logged as a warning, its body emptied: nobody will send it).
    * **A dead server costs one try per run.** One SMTP connection serves the whole run; when
      the server cannot be reached, the run stops there and the other rows wait for the next
      run without counting an attempt.
    """
    moment = now or timezone.now()
    due = list(PendingMail.objects.due(moment).values_list("pk", flat=True)[:limit])
    if not due:
        return 0
    connection = mail.open_connection()
    sent = 0
    # Claims are dated from the run's start: past half a lease the rest is left to the next
    # run, so that no claim is made that has already run out (another run would send it too).
    stop_at = _clock() + LEASE.total_seconds() / 2
    try:
        for pk in due:
            if _clock() > stop_at:
                break
            until = claim(pk, now=moment)
            if until is None:
                continue  # another worker has it, or sent it already
            row = PendingMail.objects.filter(pk=pk).first()
            if row is None:
                continue  # deleted since (from the administration)
            try:
                mail.transmit(
                    connection, recipient=row.recipient, subject=row.subject, body=row.body
                )
            except mail.MailRefused as error:
                _abandon(row, until=until, reason=error.reason)
            except mail.MailDeferred as error:
                _reschedule(row, until=until, now=moment, reason=error.reason)
                if isinstance(error, mail.MailServerUnavailable):
                    break
            else:
                PendingMail.objects.filter(pk=pk).delete()
                sent += 1
    finally:
        mail.close_connection(connection)
    return sent


def _reschedule(
    row: PendingMail, *, until: datetime.datetime, now: datetime.datetime, reason: str
) -> None:
    """One more failed attempt: wait longer, or give up past ``MAIL_RETRY_MAX_ATTEMPTS``."""
    attempts = row.attempts + 1
    if attempts >= settings.MAIL_RETRY_MAX_ATTEMPTS:
        _abandon(row, until=until, reason=reason, attempts=attempts)
        return
    # Only while this caller still holds the lease: after it, the row is someone else's.
    PendingMail.objects.filter(pk=row.pk, next_attempt_at=until).update(
        attempts=attempts, next_attempt_at=now + mail.retry_delay(attempts), last_error=reason
    )


def _abandon(
    row: PendingMail, *, until: datetime.datetime, reason: str, attempts: int | None = None
) -> None:
    """Give the row up: kept for the administration to see, without its body."""
    attempts = row.attempts + 1 if attempts is None else attempts
    updated = PendingMail.objects.filter(pk=row.pk, next_attempt_at=until).update(
        state=PendingMailState.ABANDONED, attempts=attempts, last_error=reason, body=""
    )
    if updated:
        logger.warning(
            "Message %s (pending mail %s) abandoned after %d attempt(s): %s",
            row.template,
            row.pk,
            attempts,
            reason,
        )
        # A message someone was told had gone (a reset link, an alert) never will: the
        # support must be able to find it in the trail, not only in a log.
        record_event(
            event_type=events.MAIL_ABANDONED,
            data={"template": row.template, "attempts": attempts, "reason": reason[:200]},
        )


# Abandoned rows are kept this long for the support to see, then deleted (they hold an
# address and a subject, which may name someone).
ABANDONED_KEPT = datetime.timedelta(days=30)


def purge_abandoned_mail(*, now: datetime.datetime | None = None) -> int:
    """Delete the abandoned rows queued more than ``ABANDONED_KEPT`` ago; how many. Their
    audit entries (``mail.abandoned``) stay, with the audit trail's own retention."""
    moment = now or timezone.now()
    deleted, _ = PendingMail.objects.filter(
        state=PendingMailState.ABANDONED, created_at__lt=moment - ABANDONED_KEPT
    ).delete()
    return deleted
