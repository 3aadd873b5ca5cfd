"""How long measurements are kept: raw results ``STATUS_RAW_RETENTION_DAYS`` (7), hourly
aggregates ``STATUS_HOURLY_RETENTION_DAYS`` (90). The history shown never needs more."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from convergence.status.models import HourlyStat, ProbeResult


def purge(*, now: dt.datetime | None = None) -> int:
    moment = now or timezone.now()
    raw_before = moment - dt.timedelta(days=settings.STATUS_RAW_RETENTION_DAYS)
    hourly_before = moment - dt.timedelta(days=settings.STATUS_HOURLY_RETENTION_DAYS)
    raw, _kinds = ProbeResult.objects.older_than(raw_before).delete()
    hourly, _kinds = HourlyStat.objects.filter(hour__lt=hourly_before).delete()
    return raw + hourly
