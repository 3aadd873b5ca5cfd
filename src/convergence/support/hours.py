"""Opening state of a support contact at a moment: "Ouvert — ferme à 18 h",
"Fermé — ouvre lundi à 8 h".

Pure functions: the moment, the schedule and the school holidays are parameters (the shipped
zone A calendar by default), so a test states any instant, DST changes included. Every
computation happens in Europe/Paris wall time; instants are compared in UTC, where the
autumn's repeated hour cannot confuse them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays
from django.utils.translation import gettext

from convergence.support import school_holidays as school_calendar

if TYPE_CHECKING:
    from convergence.support.models import SupportContact

PARIS = ZoneInfo("Europe/Paris")
# How far ahead the next opening is looked for; past it, "Fermé pour le moment".
SEARCH_DAYS = 60

Range = tuple[dt.time, dt.time]
Period = tuple[dt.date, dt.date]  # first and last day, inclusive

_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


@dataclass(frozen=True)
class DayException:
    """Days ``first_day`` to ``last_day`` (inclusive) open on ``ranges`` only; none: closed."""

    first_day: dt.date
    last_day: dt.date
    ranges: tuple[Range, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class Schedule:
    """A contact's week (seven tuples of ranges, Monday first) and what overrides it."""

    weekly: tuple[tuple[Range, ...], ...]
    exceptions: tuple[DayException, ...] = ()
    closed_on_public_holidays: bool = True
    closed_during_school_holidays: bool = False

    @classmethod
    def of(cls, contact: SupportContact) -> Schedule:
        """The schedule of a contact whose ``hours`` and ``exceptions`` are prefetched."""
        weekly: list[list[Range]] = [[] for _ in range(7)]
        for hours in contact.hours.all():
            weekly[hours.weekday].append((hours.opens, hours.closes))
        exceptions = []
        for exception in contact.exceptions.all():
            ranges: list[Range] = []
            if exception.opens is not None and exception.closes is not None:
                ranges.append((exception.opens, exception.closes))
            if exception.opens_again is not None and exception.closes_again is not None:
                ranges.append((exception.opens_again, exception.closes_again))
            exceptions.append(
                DayException(
                    exception.first_day,
                    exception.last_day,
                    tuple(sorted(ranges)),
                    exception.reason,
                )
            )
        return cls(
            weekly=tuple(tuple(sorted(day)) for day in weekly),
            exceptions=tuple(exceptions),
            closed_on_public_holidays=contact.closed_on_public_holidays,
            closed_during_school_holidays=contact.closed_during_school_holidays,
        )


@dataclass(frozen=True)
class State:
    is_open: bool
    label: str
    # The next change: the closing time when open, the next opening when closed (None: not
    # within SEARCH_DAYS). In Europe/Paris.
    changes_at: dt.datetime | None


def now() -> dt.datetime:
    """The moment pages and widgets show the state at (one seam for tests)."""
    return dt.datetime.now(dt.UTC)


@functools.cache
def _public_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("FR", years=year))


def is_public_holiday(day: dt.date) -> bool:
    """A French public holiday (metropolitan France: 1er janvier, lundi de Pâques, 1er et
    8 mai, Ascension, lundi de Pentecôte, 14 juillet, 15 août, Toussaint, 11 novembre, Noël)."""
    return day in _public_holidays(day.year)


def _in(day: dt.date, periods: Iterable[Period]) -> bool:
    return any(first <= day <= last for first, last in periods)


def ranges_on(
    schedule: Schedule, day: dt.date, *, school_holidays: Sequence[Period] | None = None
) -> tuple[Range, ...]:
    """The opening ranges of ``day``: an exception first, then holidays, then the week."""
    for exception in schedule.exceptions:
        if exception.first_day <= day <= exception.last_day:
            return exception.ranges
    if schedule.closed_on_public_holidays and is_public_holiday(day):
        return ()
    if schedule.closed_during_school_holidays:
        periods = school_calendar.periods() if school_holidays is None else school_holidays
        if _in(day, periods):
            return ()
    return schedule.weekly[day.weekday()]


def _instant(day: dt.date, at: dt.time) -> dt.datetime:
    """Paris wall time ``at`` on ``day``, as a UTC instant."""
    return dt.datetime.combine(day, at, tzinfo=PARIS).astimezone(dt.UTC)


def hour_label(moment: dt.datetime) -> str:
    """French hour: "8 h", "8 h 30", "18 h"."""
    if moment.minute:
        return f"{moment.hour} h {moment.minute:02d}"
    return f"{moment.hour} h"


def _day_label(day: dt.date, today: dt.date) -> str:
    ahead = (day - today).days
    if ahead == 1:
        return gettext("demain")
    weekday = gettext(_WEEKDAYS[day.weekday()])
    if ahead < 7:
        return weekday
    return gettext("le %(weekday)s %(day)s %(month)s") % {
        "weekday": weekday,
        "day": "1er" if day.day == 1 else day.day,
        "month": gettext(_MONTHS[day.month - 1]),
    }


def state_at(
    schedule: Schedule,
    moment: dt.datetime,
    *,
    school_holidays: Sequence[Period] | None = None,
) -> State:
    """Whether the contact is open at ``moment`` (an aware datetime) and until when, or
    when it opens next."""
    if school_holidays is None and schedule.closed_during_school_holidays:
        school_holidays = school_calendar.periods()
    now = moment.astimezone(dt.UTC)
    today = moment.astimezone(PARIS).date()
    closes_at: dt.datetime | None = None
    for offset in range(SEARCH_DAYS + 1):
        day = today + dt.timedelta(days=offset)
        for opens, closes in ranges_on(schedule, day, school_holidays=school_holidays):
            start, end = _instant(day, opens), _instant(day, closes)
            if closes_at is not None:
                if start > closes_at:
                    break
                closes_at = max(closes_at, end)  # a range that continues the open one
                continue
            if start <= now < end:
                closes_at = end
            elif now < start:
                local = start.astimezone(PARIS)
                when = hour_label(local)
                if offset == 0:
                    label = gettext("Fermé — ouvre à %(hour)s") % {"hour": when}
                else:
                    label = gettext("Fermé — ouvre %(day)s à %(hour)s") % {
                        "day": _day_label(day, today),
                        "hour": when,
                    }
                return State(is_open=False, label=label, changes_at=local)
        if closes_at is not None:
            local = closes_at.astimezone(PARIS)
            return State(
                is_open=True,
                label=gettext("Ouvert — ferme à %(hour)s") % {"hour": hour_label(local)},
                changes_at=local,
            )
    return State(is_open=False, label=gettext("Fermé pour le moment"), changes_at=None)


def _ranges_label(ranges: tuple[Range, ...]) -> str:
    return ", ".join(
        f"{hour_label(dt.datetime.combine(dt.date.min, opens))} \N{EN DASH} "
        f"{hour_label(dt.datetime.combine(dt.date.min, closes))}"
        for opens, closes in ranges
    )


def describe_week(schedule: Schedule) -> list[str]:
    """The week in French, consecutive days with the same hours together:
    "Du lundi au vendredi : 8 h - 12 h, 13 h 30 - 17 h 30" (with en dashes)."""
    lines = []
    day = 0
    while day < 7:
        ranges = schedule.weekly[day]
        last = day
        while last + 1 < 7 and schedule.weekly[last + 1] == ranges:
            last += 1
        if ranges:
            first_name, last_name = gettext(_WEEKDAYS[day]), gettext(_WEEKDAYS[last])
            if last == day:
                days = first_name.capitalize()
            elif last == day + 1:
                days = gettext("%(first)s et %(last)s") % {"first": first_name, "last": last_name}
                days = days.capitalize()
            else:
                days = gettext("Du %(first)s au %(last)s") % {
                    "first": first_name,
                    "last": last_name,
                }
            lines.append(f"{days} : {_ranges_label(ranges)}")
        day = last + 1
    return lines


def describe_exceptions(schedule: Schedule, today: dt.date) -> list[str]:
    """The exceptions still to come (or under way) in French."""
    lines = []
    for exception in schedule.exceptions:
        if exception.last_day < today:
            continue
        if exception.first_day == exception.last_day:
            days = gettext("Le %(day)s") % {"day": _date_label(exception.first_day)}
        else:
            days = gettext("Du %(first)s au %(last)s") % {
                "first": _date_label(exception.first_day),
                "last": _date_label(exception.last_day),
            }
        if exception.ranges:
            what = gettext("ouvert %(hours)s") % {"hours": _ranges_label(exception.ranges)}
        else:
            what = gettext("fermé")
        reason = f" ({exception.reason})" if exception.reason else ""
        lines.append(f"{days} : {what}{reason}")
    return lines


def _date_label(day: dt.date) -> str:
    return f"{'1er' if day.day == 1 else day.day} {gettext(_MONTHS[day.month - 1])} {day.year}"


def _open_intervals(
    schedule: Schedule, start: dt.datetime, *, school_holidays: Sequence[Period] | None
) -> Iterable[tuple[dt.datetime, dt.datetime]]:
    """The opening intervals (UTC) from ``start`` on, clipped to it, over a year at most."""
    if school_holidays is None and schedule.closed_during_school_holidays:
        school_holidays = school_calendar.periods()
    begin = start.astimezone(dt.UTC)
    first_day = start.astimezone(PARIS).date()
    for offset in range(366):
        day = first_day + dt.timedelta(days=offset)
        for opens, closes in ranges_on(schedule, day, school_holidays=school_holidays):
            low, high = _instant(day, opens), _instant(day, closes)
            if high > begin:
                yield max(low, begin), high


def opening_hours_between(
    schedule: Schedule,
    start: dt.datetime,
    end: dt.datetime,
    *,
    school_holidays: Sequence[Period] | None = None,
) -> dt.timedelta:
    """How much opening time passed between ``start`` and ``end`` (zero if ``end`` is
    before ``start``)."""
    total = dt.timedelta()
    stop = end.astimezone(dt.UTC)
    for low, high in _open_intervals(schedule, start, school_holidays=school_holidays):
        if low >= stop:
            break
        total += min(high, stop) - low
    return total


def after_opening_hours(
    schedule: Schedule,
    start: dt.datetime,
    duration: dt.timedelta,
    *,
    school_holidays: Sequence[Period] | None = None,
) -> dt.datetime | None:
    """The moment (Europe/Paris) when ``duration`` of opening time will have passed since
    ``start``; None when the schedule does not open that much within a year."""
    left = duration
    for low, high in _open_intervals(schedule, start, school_holidays=school_holidays):
        if high - low >= left:
            return (low + left).astimezone(PARIS)
        left -= high - low
    return None


def moment_label(moment: dt.datetime, now: dt.datetime) -> str:
    """ "aujourd'hui à 9 h 30", "demain à 17 h", "lundi à 9 h 30", "le mardi 5 janvier à 8 h"."""
    local, today = moment.astimezone(PARIS), now.astimezone(PARIS).date()
    day = gettext("aujourd'hui") if local.date() == today else _day_label(local.date(), today)
    return gettext("%(day)s à %(hour)s") % {"day": day, "hour": hour_label(local)}
