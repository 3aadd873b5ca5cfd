"""The busy times of the school year, against which a maintenance window is checked.

A window that overlaps one of them (rentrée, inscriptions, conseils de classe, résultats du
bac, every Monday 7 h 30 to 9 h 30…) is not refused: the DSI is warned and confirms.
Times are read in the académie's time zone (``TIME_ZONE``)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from convergence.status.models import PeakPeriod

# A window longer than this is checked over its first year only.
MAX_DAYS_CHECKED = 366


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment, timezone.get_default_timezone())


def _daily_ranges(
    period: PeakPeriod, first: dt.date, last: dt.date
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The stretches of time ``period`` covers between the days ``first`` and ``last``."""
    zone = timezone.get_default_timezone()
    ranges = []
    day = first
    while day <= last:
        applies = (
            day.weekday() == period.weekday
            if period.weekday is not None
            else period.starts_on is not None
            and period.ends_on is not None
            and period.starts_on <= day <= period.ends_on
        )
        if applies:
            begins = period.start_time or dt.time.min
            start = dt.datetime.combine(day, begins, tzinfo=zone)
            if period.end_time is not None:
                end = dt.datetime.combine(day, period.end_time, tzinfo=zone)
            else:
                end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
            ranges.append((start, end))
        day += dt.timedelta(days=1)
    return ranges


def overlapping(starts_at: dt.datetime, ends_at: dt.datetime) -> list[str]:
    """The busy periods the window ``[starts_at, ends_at)`` falls in, each described in
    French with the moment it first meets the window (« Rentrée scolaire (le 1 septembre) »)."""
    start, end = _local(starts_at), _local(ends_at)
    first = start.date()
    last = min(end.date(), first + dt.timedelta(days=MAX_DAYS_CHECKED))
    found = []
    for period in PeakPeriod.objects.all():
        for range_start, range_end in _daily_ranges(period, first, last):
            if range_start < end and start < range_end:
                met = max(range_start, start)
                when = date_format(met, "l j F Y à H\\hi")
                found.append(_("%(name)s (le %(when)s)") % {"name": period.name, "when": when})
                break
    return found
