"""Busy periods of the school calendar against maintenance windows, in Europe/Paris time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from convergence.status import peaks
from convergence.status.models import PeakPeriod

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
MONDAY_MORNING = "Lundi matin"
RENTREE = "Rentrée scolaire"
COUNCILS = "Conseils de classe"


def paris(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def weekly() -> PeakPeriod:
    return PeakPeriod.objects.create(
        name=MONDAY_MORNING, weekday=0, start_time=dt.time(7, 30), end_time=dt.time(9, 30)
    )


def names(start: dt.datetime, end: dt.datetime) -> list[str]:
    return [found.split(" (le ")[0] for found in peaks.overlapping(start, end)]


def test_weekly_period(weekly: PeakPeriod) -> None:
    # Monday 14 December 2026.
    assert names(paris(2026, 12, 14, 8, 0), paris(2026, 12, 14, 8, 30)) == [MONDAY_MORNING]
    # Ends are exclusive: from 9:30 on, and until 7:30, it is over.
    assert names(paris(2026, 12, 14, 9, 30), paris(2026, 12, 14, 10, 0)) == []
    assert names(paris(2026, 12, 14, 6, 0), paris(2026, 12, 14, 7, 30)) == []
    # A Tuesday morning.
    assert names(paris(2026, 12, 15, 8, 0), paris(2026, 12, 15, 8, 30)) == []
    # Sunday night into Monday morning.
    assert names(paris(2026, 12, 13, 23, 0), paris(2026, 12, 14, 8, 0)) == [MONDAY_MORNING]
    # A whole week always meets it.
    assert names(paris(2026, 12, 9, 0, 0), paris(2026, 12, 16, 0, 0)) == [MONDAY_MORNING]


def test_description_says_when_the_window_meets_it(weekly: PeakPeriod) -> None:
    found = peaks.overlapping(paris(2026, 12, 13, 23, 0), paris(2026, 12, 14, 8, 0))
    assert found == ["Lundi matin (le lundi 14 décembre 2026 à 07h30)"]


def test_window_given_in_utc_is_read_in_paris_time(weekly: PeakPeriod) -> None:
    # 6:45 UTC is 7:45 in Paris in winter.
    start = dt.datetime(2026, 12, 14, 6, 45, tzinfo=dt.UTC)
    assert names(start, start + dt.timedelta(minutes=10)) == [MONDAY_MORNING]


def test_weekly_period_across_the_change_to_winter_time(weekly: PeakPeriod) -> None:
    """Summer time ends on Sunday 25 October 2026: 7:30 in Paris is 5:30 UTC on the Monday
    before, 6:30 UTC on the Monday after."""
    before = dt.datetime(2026, 10, 19, 5, 45, tzinfo=dt.UTC)  # 7:45 in Paris
    assert names(before, before + dt.timedelta(minutes=10)) == [MONDAY_MORNING]
    after = dt.datetime(2026, 10, 26, 5, 45, tzinfo=dt.UTC)  # 6:45 in Paris
    assert names(after, after + dt.timedelta(minutes=10)) == []
    after_late = dt.datetime(2026, 10, 26, 7, 45, tzinfo=dt.UTC)  # 8:45 in Paris
    assert names(after_late, after_late + dt.timedelta(minutes=10)) == [MONDAY_MORNING]
    # 8:15 UTC on 19 October is 10:15 in Paris: over.
    summer_late = dt.datetime(2026, 10, 19, 8, 15, tzinfo=dt.UTC)
    assert names(summer_late, summer_late + dt.timedelta(minutes=10)) == []
    # The night of the change itself, Sunday 22:00 → Monday 7:45 Paris time.
    assert names(paris(2026, 10, 25, 22, 0), paris(2026, 10, 26, 7, 45)) == [MONDAY_MORNING]


def test_date_range_covers_whole_days() -> None:
    PeakPeriod.objects.create(
        name=RENTREE, starts_on=dt.date(2026, 8, 31), ends_on=dt.date(2026, 9, 11)
    )
    # Any moment of a covered day, the first and the last included.
    assert names(paris(2026, 8, 31, 0, 0), paris(2026, 8, 31, 0, 30)) == [RENTREE]
    assert names(paris(2026, 9, 11, 23, 0), paris(2026, 9, 12, 1, 0)) == [RENTREE]
    assert names(paris(2026, 9, 5, 3, 0), paris(2026, 9, 5, 4, 0)) == [RENTREE]
    # The day before and the day after.
    assert names(paris(2026, 8, 30, 20, 0), paris(2026, 8, 31, 0, 0)) == []
    assert names(paris(2026, 9, 12, 0, 0), paris(2026, 9, 12, 6, 0)) == []
    # 31 August 0:30 in Paris is still 30 August in UTC.
    utc = dt.datetime(2026, 8, 30, 22, 30, tzinfo=dt.UTC)
    assert names(utc, utc + dt.timedelta(minutes=15)) == [RENTREE]
    # A window spanning the whole period.
    assert names(paris(2026, 8, 1, 0, 0), paris(2026, 10, 1, 0, 0)) == [RENTREE]
    found = peaks.overlapping(paris(2026, 8, 1, 0, 0), paris(2026, 10, 1, 0, 0))
    assert found == ["Rentrée scolaire (le lundi 31 août 2026 à 00h00)"]


def test_date_range_with_hours_only_overlaps_in_those_hours() -> None:
    PeakPeriod.objects.create(
        name=COUNCILS,
        starts_on=dt.date(2026, 11, 30),
        ends_on=dt.date(2026, 12, 18),
        start_time=dt.time(16, 0),
        end_time=dt.time(20, 0),
    )
    assert names(paris(2026, 12, 2, 17, 0), paris(2026, 12, 2, 18, 0)) == [COUNCILS]
    assert names(paris(2026, 12, 2, 20, 0), paris(2026, 12, 2, 22, 0)) == []
    assert names(paris(2026, 12, 2, 8, 0), paris(2026, 12, 2, 15, 59)) == []
    assert names(paris(2026, 12, 2, 15, 0), paris(2026, 12, 2, 16, 1)) == [COUNCILS]
    # A night window that starts before the last council evening ends.
    assert names(paris(2026, 12, 18, 19, 0), paris(2026, 12, 19, 2, 0)) == [COUNCILS]
    # The evening after the last day.
    assert names(paris(2026, 12, 19, 17, 0), paris(2026, 12, 19, 18, 0)) == []


def test_date_range_with_hours_across_the_change_to_summer_time() -> None:
    """Summer time starts on Sunday 28 March 2027: 16:00 in Paris is 15:00 UTC on the 26th,
    14:00 UTC on the 29th."""
    PeakPeriod.objects.create(
        name=COUNCILS,
        starts_on=dt.date(2027, 3, 22),
        ends_on=dt.date(2027, 4, 2),
        start_time=dt.time(16, 0),
        end_time=dt.time(20, 0),
    )
    winter = dt.datetime(2027, 3, 26, 14, 30, tzinfo=dt.UTC)  # 15:30 in Paris
    assert names(winter, winter + dt.timedelta(minutes=20)) == []
    summer = dt.datetime(2027, 3, 29, 14, 30, tzinfo=dt.UTC)  # 16:30 in Paris
    assert names(summer, summer + dt.timedelta(minutes=20)) == [COUNCILS]
    summer_end = dt.datetime(2027, 3, 29, 18, 0, tzinfo=dt.UTC)  # 20:00 in Paris
    assert names(summer_end, summer_end + dt.timedelta(hours=1)) == []


def test_several_periods_each_named_once(weekly: PeakPeriod) -> None:
    PeakPeriod.objects.create(
        name=RENTREE, starts_on=dt.date(2026, 8, 31), ends_on=dt.date(2026, 9, 11)
    )
    # Two Mondays of the rentrée: each period listed once.
    found = names(paris(2026, 8, 31, 7, 0), paris(2026, 9, 8, 0, 0))
    assert sorted(found) == sorted([MONDAY_MORNING, RENTREE])
