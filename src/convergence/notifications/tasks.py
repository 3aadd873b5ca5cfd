"""Background work of the notifications app: e-mails and pushes due now or after quiet
hours, the daily digests, the test push and the purge of old notifications (all but the
test push also run by the schedule)."""

from __future__ import annotations

from django_tasks import task

from convergence.notifications import actions, push_actions


@task()
def deliver_notification_mail() -> int:
    """Send the notification e-mails that are due (``actions.deliver_due_mail``)."""
    return actions.deliver_due_mail()


@task()
def send_notification_digests() -> int:
    """Send the daily digests that are due (``actions.send_digests``)."""
    return actions.send_digests()


@task()
def deliver_notification_push() -> int:
    """Push the notifications that are due (``push_actions.deliver_due_push``)."""
    return push_actions.deliver_due_push()


@task()
def send_test_push(person_pk: int) -> int:
    """The test push a person asked for (``push_actions.deliver_test_push``)."""
    return push_actions.deliver_test_push(person_pk=person_pk)


@task()
def purge_old_notifications() -> int:
    """Delete old notifications (``actions.purge_old_notifications``)."""
    return actions.purge_old_notifications()
