"""Publishing: now or at its time (time travel), the fan-out in the background, safe to run
twice, notifications through ``notify`` with the announcement's key; acknowledgement and
withdrawal."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from freezegun import freeze_time

from convergence.audit.models import AuditEvent
from convergence.core import schedule
from convergence.core.notify import Category
from convergence.notifications.models import Notification
from convergence.portal import announcement_actions, announcement_delivery, tasks
from convergence.portal.models import Announcement, AnnouncementRecipient, AnnouncementState
from tests.portal.announcement_factories import sent, written

NOW = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=datetime.UTC)


def test_publishing_now_hands_the_fan_out_to_the_worker(
    head_of_school: Any, pupil: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The author's request writes no recipient: the worker's task does."""
    announcement = written(head_of_school)
    with django_capture_on_commit_callbacks(execute=True):
        announcement_actions.publish_announcement(
            acting_user=head_of_school, announcement=announcement
        )
    announcement.refresh_from_db()
    assert announcement.state == AnnouncementState.PUBLISHED and announcement.is_sending
    assert not AnnouncementRecipient.objects.exists()
    queued = DBTaskResult.objects.get(task_path="convergence.portal.tasks.fan_out_announcement")
    assert queued.args_kwargs["args"] == [announcement.pk]
    assert AuditEvent.objects.filter(event_type="announcement.published").exists()

    tasks.fan_out_announcement.call(announcement.pk)
    announcement.refresh_from_db()
    assert announcement.fanned_out_at is not None and not announcement.is_sending
    assert announcement.recipients_count == AnnouncementRecipient.objects.count() > 5
    assert AnnouncementRecipient.objects.filter(person=pupil).exists()


def test_each_recipient_gets_one_notification_with_the_key(
    head_of_school: Any, teacher: Any
) -> None:
    announcement = sent(head_of_school, title="Conseil pédagogique")
    notification = Notification.objects.get(recipient=teacher, category=Category.ANNONCES)
    assert notification.category == Category.ANNONCES
    assert notification.key == f"announcement-{announcement.pk}"
    assert notification.url == f"/annonces/{announcement.pk}/"
    assert "Conseil pédagogique" in notification.title
    assert (
        Notification.objects.filter(key=notification.key).count() == announcement.recipients_count
    )
    assert AuditEvent.objects.filter(
        event_type="announcement.sent", data__recipients=announcement.recipients_count
    ).exists()


def test_the_fan_out_run_twice_writes_nothing_more(head_of_school: Any) -> None:
    announcement = sent(head_of_school)
    notifications_of = Notification.objects.filter(key=f"announcement-{announcement.pk}")
    recipients, notifications = AnnouncementRecipient.objects.count(), notifications_of.count()
    assert recipients == notifications > 5
    # A second task for the same announcement: it is sent already, nothing is claimed.
    assert announcement_delivery.fan_out_announcement(announcement_pk=announcement.pk) == 0
    # A worker that died after writing: the whole run again, as after a stale claim.
    Announcement.objects.filter(pk=announcement.pk).update(
        fanned_out_at=None, fanout_started_at=None
    )
    assert announcement_delivery.fan_out_announcement(announcement_pk=announcement.pk) == (
        recipients
    )
    assert AnnouncementRecipient.objects.count() == recipients
    assert notifications_of.count() == notifications


def test_two_workers_never_both_claim_one_fan_out(head_of_school: Any) -> None:
    announcement = written(head_of_school)
    announcement_actions.publish_announcement(acting_user=head_of_school, announcement=announcement)
    now = timezone.now()
    assert announcement_delivery.claim_fan_out(announcement.pk, now=now)
    assert not announcement_delivery.claim_fan_out(announcement.pk, now=now)
    # A claim nobody refreshed for longer than STALE_CLAIM is taken over.
    later = now + announcement_delivery.STALE_CLAIM + datetime.timedelta(seconds=1)
    assert announcement_delivery.claim_fan_out(announcement.pk, now=later)


def test_a_scheduled_announcement_goes_out_when_its_time_comes(
    head_of_school: Any, teacher: Any
) -> None:
    with freeze_time(NOW):
        announcement = written(head_of_school, publish_at=NOW + datetime.timedelta(hours=2))
        announcement_actions.publish_announcement(
            acting_user=head_of_school, announcement=announcement
        )
        announcement.refresh_from_db()
        assert announcement.state == AnnouncementState.SCHEDULED
        assert announcement_delivery.publish_due() == 0
    with freeze_time(NOW + datetime.timedelta(hours=1, minutes=59)):
        assert announcement_delivery.publish_due() == 0
        assert not Announcement.objects.received_by(teacher).exists()
    with freeze_time(NOW + datetime.timedelta(hours=2, minutes=1)):
        assert announcement_delivery.publish_due() == 1
        announcement.refresh_from_db()
        assert announcement.state == AnnouncementState.PUBLISHED
        assert announcement.fanned_out_at is not None
        assert Announcement.objects.received_by(teacher).filter(pk=announcement.pk).exists()
        # The next minute's run finds nothing more to do.
        assert announcement_delivery.publish_due() == 0
    assert Notification.objects.filter(recipient=teacher, category=Category.ANNONCES).count() == 1


def test_the_schedule_runs_the_publication_every_minute(head_of_school: Any) -> None:
    job = next(job for job in schedule.jobs() if job.name == "publish_due_announcements")
    assert job.every == datetime.timedelta(minutes=1)
    with freeze_time(NOW):
        announcement = written(head_of_school, publish_at=NOW + datetime.timedelta(minutes=1))
        announcement_actions.publish_announcement(
            acting_user=head_of_school, announcement=announcement
        )
    with freeze_time(NOW + datetime.timedelta(minutes=2)):
        assert "publish_due_announcements" in schedule.run_due_jobs(inline=True)
    announcement.refresh_from_db()
    assert announcement.fanned_out_at is not None


def test_an_expired_announcement_leaves_the_dashboards(head_of_school: Any, teacher: Any) -> None:
    expires = timezone.now() + datetime.timedelta(days=1)
    announcement = sent(head_of_school, expires_at=expires)
    assert Announcement.objects.received_by(teacher).filter(pk=announcement.pk).exists()
    later = expires + datetime.timedelta(minutes=1)
    assert not Announcement.objects.received_by(teacher, now=later).exists()


def test_published_announcements_no_longer_change(head_of_school: Any) -> None:
    from tests.portal.announcement_factories import draft

    announcement = sent(head_of_school)
    with pytest.raises(announcement_actions.AnnouncementRefused):
        announcement_actions.update_announcement(
            acting_user=head_of_school, announcement=announcement, draft=draft(title="Autre")
        )
    with pytest.raises(announcement_actions.AnnouncementRefused):
        announcement_actions.publish_announcement(
            acting_user=head_of_school, announcement=announcement
        )


def test_a_draft_changes_until_published(head_of_school: Any) -> None:
    from tests.portal.announcement_factories import draft

    announcement = written(head_of_school)
    changed = announcement_actions.update_announcement(
        acting_user=head_of_school, announcement=announcement, draft=draft(title="Nouveau titre")
    )
    assert changed.title == "Nouveau titre"
    assert AuditEvent.objects.filter(event_type="announcement.updated").count() == 1


# --- acknowledgement ----------------------------------------------------------------------------


def test_acknowledging_is_idempotent_and_audited_once(head_of_school: Any, teacher: Any) -> None:
    announcement = sent(head_of_school, requires_ack=True)
    assert announcement_actions.acknowledge_announcement(
        acting_user=teacher, announcement=announcement
    )
    first = AnnouncementRecipient.objects.get(announcement=announcement, person=teacher)
    assert first.acknowledged_at is not None
    assert not announcement_actions.acknowledge_announcement(
        acting_user=teacher, announcement=announcement
    )
    again = AnnouncementRecipient.objects.get(announcement=announcement, person=teacher)
    assert again.acknowledged_at == first.acknowledged_at
    assert AuditEvent.objects.filter(event_type="announcement.acknowledged").count() == 1


def test_only_recipients_acknowledge(head_of_school: Any, pupil_in_dole: Any) -> None:
    announcement = sent(head_of_school, requires_ack=True)
    with pytest.raises(announcement_actions.NotARecipient):
        announcement_actions.acknowledge_announcement(
            acting_user=pupil_in_dole, announcement=announcement
        )
    assert not AnnouncementRecipient.objects.filter(person=pupil_in_dole).exists()


# --- withdrawal ---------------------------------------------------------------------------------


def test_a_withdrawn_announcement_is_no_longer_seen_nor_acknowledged(
    head_of_school: Any, teacher: Any
) -> None:
    announcement = sent(head_of_school, requires_ack=True)
    assert announcement_actions.withdraw_announcement(
        acting_user=head_of_school, announcement=announcement
    )
    assert announcement.state == AnnouncementState.WITHDRAWN
    assert not Announcement.objects.received_by(teacher).exists()
    with pytest.raises(announcement_actions.NotARecipient):
        announcement_actions.acknowledge_announcement(
            acting_user=teacher, announcement=announcement
        )
    # A second withdrawal changes nothing.
    assert not announcement_actions.withdraw_announcement(
        acting_user=head_of_school, announcement=announcement
    )
    assert AuditEvent.objects.filter(event_type="announcement.withdrawn").count() == 1


def test_a_fan_out_stops_when_the_announcement_is_withdrawn(head_of_school: Any) -> None:
    announcement = written(head_of_school)
    announcement_actions.publish_announcement(acting_user=head_of_school, announcement=announcement)
    announcement_actions.withdraw_announcement(
        acting_user=head_of_school, announcement=announcement
    )
    assert announcement_delivery.fan_out_announcement(announcement_pk=announcement.pk) == 0
    assert not AnnouncementRecipient.objects.exists()
    assert not Notification.objects.filter(category=Category.ANNONCES).exists()
