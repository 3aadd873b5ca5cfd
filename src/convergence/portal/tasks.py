"""Background work of the portal: sending an announcement to its audience, and the
scheduled publication of announcements (also run every minute by the schedule)."""

from __future__ import annotations

from django_tasks import task

from convergence.portal import announcement_delivery


@task()
def fan_out_announcement(announcement_pk: int) -> int:
    """Send one published announcement (``announcement_delivery.fan_out_announcement``)."""
    return announcement_delivery.fan_out_announcement(announcement_pk=announcement_pk)


@task()
def publish_due_announcements() -> int:
    """Publish and send the announcements whose time came
    (``announcement_delivery.publish_due``)."""
    return announcement_delivery.publish_due()
