"""Delays counted in opening hours (``support/hours.py``), across weekends and holidays."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from convergence.support.hours import after_opening_hours, moment_label, opening_hours_between
from convergence.support.tickets import DEFAULT_SCHEDULE

PARIS = ZoneInfo("Europe/Paris")
HOUR = dt.timedelta(hours=1)


def paris(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=PARIS)


def test_eight_opening_hours_from_friday_afternoon_end_on_monday():
    # Friday 4 December 2026, 16:30: one hour left that day, seven on Monday from 8:30.
    due = after_opening_hours(DEFAULT_SCHEDULE, paris("2026-12-04 16:30"), 8 * HOUR)
    assert due == paris("2026-12-07 15:30")


def test_christmas_day_counts_no_opening_hour():
    # Thursday 24 December 16:30; Friday 25 is a public holiday, then the weekend.
    due = after_opening_hours(DEFAULT_SCHEDULE, paris("2026-12-24 16:30"), 8 * HOUR)
    assert due == paris("2026-12-28 15:30")


def test_opening_hours_elapsed_skip_nights_and_the_weekend():
    elapsed = opening_hours_between(
        DEFAULT_SCHEDULE, paris("2026-12-04 16:30"), paris("2026-12-07 10:30")
    )
    assert elapsed == 3 * HOUR


def test_a_request_opened_at_night_starts_counting_at_opening():
    due = after_opening_hours(DEFAULT_SCHEDULE, paris("2026-12-08 22:00"), 2 * HOUR)
    assert due == paris("2026-12-09 10:30")


def test_elapsed_and_due_agree():
    start = paris("2026-12-23 11:00")
    due = after_opening_hours(DEFAULT_SCHEDULE, start, 40 * HOUR)
    assert due is not None
    assert opening_hours_between(DEFAULT_SCHEDULE, start, due) == 40 * HOUR


def test_the_due_moment_reads_in_french():

    assert moment_label(paris("2026-12-07 09:30"), paris("2026-12-04 16:00")) == "lundi à 9 h 30"
    assert moment_label(paris("2026-12-04 17:00"), paris("2026-12-04 16:00")) == (
        "aujourd'hui à 17 h"
    )
