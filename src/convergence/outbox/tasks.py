"""Background work of the outbox: the e-mails waiting for the mail server, tried again."""

from __future__ import annotations

from django_tasks import task

from convergence.outbox import actions


@task()
def deliver_pending_mail() -> int:
    """Send the queued e-mails that are due (``outbox.actions.deliver_pending``)."""
    return actions.deliver_pending()


@task()
def purge_abandoned_mail() -> int:
    """Delete e-mails abandoned long ago (``outbox.actions.purge_abandoned_mail``)."""
    return actions.purge_abandoned_mail()
