"""Background work of the notifications app: e-mails due now or after quiet hours, and the
daily digests (both also run by the schedule)."""

from __future__ import annotations

from django_tasks import task

from convergence.notifications import actions


@task()
def deliver_notification_mail() -> int:
    """Send the notification e-mails that are due (``actions.deliver_due_mail``)."""
    return actions.deliver_due_mail()


@task()
def send_notification_digests() -> int:
    """Send the daily digests that are due (``actions.send_digests``)."""
    return actions.send_digests()
