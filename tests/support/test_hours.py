"""Opening state of a contact at a moment, in Europe/Paris: public and school holidays,
summer and winter time, midnight, reduced days and closures."""

from __future__ import annotations

import datetime as dt

import pytest

from convergence.support.hours import (
    DayException,
    Schedule,
    describe_exceptions,
    describe_week,
    hour_label,
    state_at,
)

T = dt.time


def at(text: str) -> dt.datetime:
    """A Paris wall-clock moment, e.g. "2026-12-07 12:00" (offset resolved by zoneinfo)."""
    from zoneinfo import ZoneInfo

    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo("Europe/Paris"))


def week(*ranges: tuple[dt.time, dt.time], saturday: tuple = ()) -> tuple:
    return (tuple(ranges),) * 5 + (saturday, ())


TEACHER = Schedule(weekly=week((T(8), T(18))))  # référent: jours ouvrés 8 h - 18 h
DSI = Schedule(weekly=week((T(8, 30), T(17, 30))))  # support DSI: 8 h 30 - 17 h 30
SPLIT = Schedule(weekly=week((T(8), T(12)), (T(13, 30), T(17, 30))))
NO_SCHOOL_HOLIDAYS: tuple = ()


def label(schedule: Schedule, moment: str, **kwargs) -> str:
    kwargs.setdefault("school_holidays", NO_SCHOOL_HOLIDAYS)
    return state_at(schedule, at(moment), **kwargs).label


def test_french_hours_read_8_h_8_h_30_and_18_h():
    assert hour_label(at("2026-01-05 08:00")) == "8 h"
    assert hour_label(at("2026-01-05 08:30")) == "8 h 30"
    assert hour_label(at("2026-01-05 18:00")) == "18 h"


def test_open_during_the_day_says_when_it_closes():
    state = state_at(TEACHER, at("2026-12-07 10:15"), school_holidays=())
    assert state.is_open
    assert state.label == "Ouvert — ferme à 18 h"


def test_closed_at_the_closing_minute_and_reopens_tomorrow():
    assert label(DSI, "2026-12-08 17:30") == "Fermé — ouvre demain à 8 h 30"


def test_before_opening_says_today_without_a_day():
    assert label(DSI, "2026-12-08 07:59") == "Fermé — ouvre à 8 h 30"


def test_lunch_break_reopens_at_13_h_30():
    assert label(SPLIT, "2026-12-08 12:30") == "Fermé — ouvre à 13 h 30"
    assert label(SPLIT, "2026-12-08 11:00") == "Ouvert — ferme à 12 h"


def test_friday_evening_opens_monday():
    assert label(TEACHER, "2026-12-04 18:00") == "Fermé — ouvre lundi à 8 h"


def test_weekend_opens_monday():
    assert label(TEACHER, "2026-12-05 12:00") == "Fermé — ouvre lundi à 8 h"


def test_midnight_belongs_to_the_new_day():
    assert label(TEACHER, "2026-12-07 23:59") == "Fermé — ouvre demain à 8 h"
    assert label(TEACHER, "2026-12-08 00:00") == "Fermé — ouvre à 8 h"


def test_sunday_midnight_opens_the_same_monday():
    assert label(TEACHER, "2026-12-06 23:59") == "Fermé — ouvre demain à 8 h"
    assert label(TEACHER, "2026-12-07 00:00") == "Fermé — ouvre à 8 h"


def test_armistice_day_is_skipped():
    # Wednesday 11 November 2026 is a public holiday.
    assert label(TEACHER, "2026-11-10 18:30") == "Fermé — ouvre jeudi à 8 h"
    assert not state_at(TEACHER, at("2026-11-11 10:00"), school_holidays=()).is_open


def test_christmas_is_skipped():
    # Friday 25 December 2026: from Thursday evening, the next opening is Monday 28.
    assert label(TEACHER, "2026-12-24 18:00") == "Fermé — ouvre lundi à 8 h"


def test_easter_monday_is_skipped():
    # Easter 2027 is 28 March: Monday 29 March is off.
    assert label(DSI, "2027-03-26 18:00") == "Fermé — ouvre mardi à 8 h 30"


def test_a_contact_open_on_public_holidays_stays_open():
    always = Schedule(weekly=TEACHER.weekly, closed_on_public_holidays=False)
    assert label(always, "2026-11-11 10:00") == "Ouvert — ferme à 18 h"


def test_school_holidays_close_a_contact_that_asks():
    closing = Schedule(weekly=TEACHER.weekly, closed_during_school_holidays=True)
    christmas = ((dt.date(2026, 12, 19), dt.date(2027, 1, 3)),)
    # Friday 18 December, evening: closed until Monday 4 January (beyond a week: the date).
    assert (
        label(closing, "2026-12-18 18:00", school_holidays=christmas)
        == "Fermé — ouvre le lundi 4 janvier à 8 h"
    )
    # A contact that does not close keeps its week (24 December is not a public holiday).
    assert label(TEACHER, "2026-12-24 10:00", school_holidays=christmas) == (
        "Ouvert — ferme à 18 h"
    )


def test_shipped_zone_a_calendar_is_used_by_default():
    closing = Schedule(weekly=TEACHER.weekly, closed_during_school_holidays=True)
    # Vacances d'hiver, zone A, 2026: 7 to 22 February.
    state = state_at(closing, at("2026-02-10 10:00"))
    assert not state.is_open
    assert state.label == "Fermé — ouvre le lundi 23 février à 8 h"


def test_change_to_summer_time_keeps_the_wall_clock():
    # Sunday 29 March 2026, 2:00 becomes 3:00; Monday opens at 8:00 Paris (6:00 UTC).
    state = state_at(TEACHER, at("2026-03-29 03:30"), school_holidays=())
    assert state.label == "Fermé — ouvre demain à 8 h"
    assert state.changes_at is not None
    assert state.changes_at.astimezone(dt.UTC) == dt.datetime(2026, 3, 30, 6, tzinfo=dt.UTC)
    # 0:30 UTC, before the change: 1:30 CET.
    moment = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)
    assert state_at(TEACHER, moment, school_holidays=()).label == "Fermé — ouvre demain à 8 h"


def test_summer_time_opening_is_at_6_utc_on_monday_morning():
    moment = dt.datetime(2026, 3, 30, 5, 59, tzinfo=dt.UTC)  # 7:59 CEST
    assert state_at(TEACHER, moment, school_holidays=()).label == "Fermé — ouvre à 8 h"
    moment = dt.datetime(2026, 3, 30, 6, 0, tzinfo=dt.UTC)  # 8:00 CEST
    assert state_at(TEACHER, moment, school_holidays=()).label == "Ouvert — ferme à 18 h"


def test_change_to_winter_time_keeps_the_wall_clock():
    # Sunday 25 October 2026, 3:00 becomes 2:00 (the hour repeats); Monday 8:00 is 7:00 UTC.
    repeated = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)  # 2:30 CEST, first pass
    state = state_at(TEACHER, repeated, school_holidays=())
    assert state.label == "Fermé — ouvre demain à 8 h"
    assert state.changes_at is not None
    assert state.changes_at.astimezone(dt.UTC) == dt.datetime(2026, 10, 26, 7, tzinfo=dt.UTC)
    moment = dt.datetime(2026, 10, 26, 6, 59, tzinfo=dt.UTC)  # 7:59 CET
    assert state_at(TEACHER, moment, school_holidays=()).label == "Fermé — ouvre à 8 h"
    moment = dt.datetime(2026, 10, 26, 16, 59, tzinfo=dt.UTC)  # 17:59 CET
    assert state_at(TEACHER, moment, school_holidays=()).label == "Ouvert — ferme à 18 h"


def test_a_closure_exception_skips_its_days():
    closed = Schedule(
        weekly=DSI.weekly,
        exceptions=(DayException(dt.date(2026, 12, 7), dt.date(2026, 12, 8), (), "déménagement"),),
    )
    assert label(closed, "2026-12-07 10:00") == "Fermé — ouvre mercredi à 8 h 30"


def test_a_reduced_day_has_its_own_hours():
    reduced = Schedule(
        weekly=DSI.weekly,
        exceptions=(
            DayException(dt.date(2026, 12, 24), dt.date(2026, 12, 24), ((T(8, 30), T(12)),)),
        ),
    )
    assert label(reduced, "2026-12-24 10:00") == "Ouvert — ferme à 12 h"
    assert label(reduced, "2026-12-24 12:00") == "Fermé — ouvre lundi à 8 h 30"


def test_an_exception_opens_even_a_public_holiday():
    opened = Schedule(
        weekly=DSI.weekly,
        exceptions=(DayException(dt.date(2026, 11, 11), dt.date(2026, 11, 11), ((T(9), T(12)),)),),
    )
    assert label(opened, "2026-11-11 08:00") == "Fermé — ouvre à 9 h"


def test_contiguous_ranges_close_at_the_end_of_the_last():
    joined = Schedule(weekly=week((T(8), T(12)), (T(12), T(14))))
    assert label(joined, "2026-12-07 11:00") == "Ouvert — ferme à 14 h"


def test_nothing_within_sixty_days_is_closed_for_now():
    never = Schedule(weekly=((),) * 7)
    state = state_at(never, at("2026-12-07 10:00"), school_holidays=())
    assert state.label == "Fermé pour le moment"
    assert state.changes_at is None
    long_closure = Schedule(
        weekly=DSI.weekly,
        exceptions=(DayException(dt.date(2026, 12, 1), dt.date(2027, 3, 1)),),
    )
    assert label(long_closure, "2026-12-07 10:00") == "Fermé pour le moment"


@pytest.mark.parametrize(
    ("schedule", "lines"),
    [
        (TEACHER, ["Du lundi au vendredi : 8 h – 18 h"]),  # noqa: RUF001
        (SPLIT, ["Du lundi au vendredi : 8 h – 12 h, 13 h 30 – 17 h 30"]),  # noqa: RUF001
        (
            Schedule(
                weekly=((((T(9), T(12)),),) * 2) + ((),) + ((((T(9), T(12)),),) * 2) + ((), ())
            ),
            ["Lundi et mardi : 9 h – 12 h", "Jeudi et vendredi : 9 h – 12 h"],  # noqa: RUF001
        ),
    ],
)
def test_the_week_is_described_in_french(schedule, lines):
    assert describe_week(schedule) == lines


def test_exceptions_to_come_are_described():
    schedule = Schedule(
        weekly=DSI.weekly,
        exceptions=(
            DayException(dt.date(2026, 1, 2), dt.date(2026, 1, 2)),
            DayException(
                dt.date(2026, 12, 24), dt.date(2026, 12, 24), ((T(8, 30), T(12)),), "veille de Noël"
            ),
        ),
    )
    assert describe_exceptions(schedule, dt.date(2026, 12, 5)) == [
        "Le 24 décembre 2026 : ouvert 8 h 30 – 12 h (veille de Noël)"  # noqa: RUF001
    ]
