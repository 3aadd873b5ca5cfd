"""Background work of the outbox: the e-mails waiting for the mail server, tried again."""

from __future__ import annotations

from django_tasks import task

from convergence.outbox import actions


@task()
def deliver_pending_mail() -> int:
    """Send the queued e-mails that are due (``outbox.actions.deliver_pending``)."""
    return actions.deliver_pending()
