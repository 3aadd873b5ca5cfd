"""How long the portal keeps what it notes of a person's mail activity, and the daily purge.

Only models are imported here: the scheduled task (``tasks.purge_old_mail_records``) reaches
it without pulling the app's actions into the task module's imports.
"""

from __future__ import annotations

import datetime
import logging

from django.db.models import Q
from django.utils import timezone

from convergence.mail.models import MailAlert, PhishingReport, SendingCount

logger = logging.getLogger(__name__)

# What the portal keeps of a person's mail activity, and for how long (docs/mail.md): the
# limits read only the last 24 hours of counts; an alert is of use while it is new; the DSI
# groups reports over 30 days and keeps a year of them for its own follow-up.
SENDING_COUNTS_KEPT = datetime.timedelta(hours=48)
SEEN_ALERTS_KEPT = datetime.timedelta(days=30)
ALERTS_KEPT = datetime.timedelta(days=90)
PHISHING_REPORTS_KEPT = datetime.timedelta(days=365)


def purge_old_mail_records(now: datetime.datetime | None = None) -> dict[str, int]:
    """Delete the sending counts, rule alerts and phishing reports past their keeping time;
    how many of each."""
    now = now or timezone.now()
    counts, _ = SendingCount.objects.filter(hour__lt=now - SENDING_COUNTS_KEPT).delete()
    alerts, _ = MailAlert.objects.filter(
        Q(seen_at__lt=now - SEEN_ALERTS_KEPT) | Q(received_at__lt=now - ALERTS_KEPT)
    ).delete()
    reports, _ = PhishingReport.objects.filter(reported_at__lt=now - PHISHING_REPORTS_KEPT).delete()
    purged = {"sending_counts": counts, "alerts": alerts, "phishing_reports": reports}
    if any(purged.values()):
        logger.info("Messagerie : anciennes données supprimées %s", purged)
    return purged
