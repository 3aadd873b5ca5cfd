"""What the portal keeps of a person's mail activity is deleted after its keeping time, daily:
sending counts after two days, alerts once seen a month or after three months, phishing
reports after a year; newer rows stay."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from convergence.core.schedule import jobs
from convergence.mail import retention
from convergence.mail.models import MailAlert, PhishingReport, SendingCount

pytestmark = pytest.mark.django_db


def test_old_records_go_and_new_ones_stay(teacher: Any) -> None:
    now = timezone.now()
    days = datetime.timedelta(days=1)
    SendingCount.objects.create(user=teacher, hour=now - 3 * days, recipients=5)
    kept_count = SendingCount.objects.create(user=teacher, hour=now - days, recipients=5)
    MailAlert.objects.create(user=teacher, sender="a", subject="vu", seen_at=now - 31 * days)
    MailAlert.objects.create(user=teacher, sender="a", subject="vieux", received_at=now - 91 * days)
    kept_alert = MailAlert.objects.create(user=teacher, sender="a", subject="récent")
    PhishingReport.objects.create(
        reporter=teacher,
        sender_address="x@e.example",
        sender_domain="e.example",
        reported_at=now - 366 * days,
        message_id="<old@x>",
    )
    kept_report = PhishingReport.objects.create(
        reporter=teacher,
        sender_address="x@e.example",
        sender_domain="e.example",
        reported_at=now - 200 * days,
        message_id="<new@x>",
    )

    purged = retention.purge_old_mail_records(now)

    assert purged == {"sending_counts": 1, "alerts": 2, "phishing_reports": 1}
    assert list(SendingCount.objects.all()) == [kept_count]
    assert list(MailAlert.objects.all()) == [kept_alert]
    assert list(PhishingReport.objects.all()) == [kept_report]


def test_the_purge_runs_daily() -> None:
    assert "purge_old_mail_records" in {job.name for job in jobs()}
