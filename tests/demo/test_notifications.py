"""The demo teacher's notification preferences: set once, as her own audited choice, and
they change what reaches her (announcements by e-mail at once, even on a weekend)."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

from freezegun import freeze_time

from convergence.audit.models import AuditEvent
from convergence.core.notify import Category, notify
from convergence.notifications.models import EmailState, Notification
from demo.notifications import prepare_teacher_notifications

SATURDAY_10 = datetime.datetime(2026, 12, 5, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


def test_sophie_takes_announcements_by_email_at_once_even_on_saturday(
    teacher: Any, cpe: Any
) -> None:
    assert prepare_teacher_notifications() is True
    assert prepare_teacher_notifications() is False  # once
    assert (
        AuditEvent.objects.filter(
            event_type="notifications.preferences_changed", actor=teacher
        ).count()
        == 1
    )
    with freeze_time(SATURDAY_10):
        notify([teacher, cpe], category=Category.ANNONCES, title="Conseil pédagogique")
    hers = Notification.objects.get(recipient=teacher)
    assert hers.email_state == EmailState.WAITING
    assert hers.email_due_at == SATURDAY_10
    # A colleague with the staff's defaults: the 17 h digest, on a weekday.
    assert Notification.objects.get(recipient=cpe).email_state == EmailState.DIGEST
