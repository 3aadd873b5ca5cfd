"""Zone A school holidays: the shipped data, and the command that reads the official ICS."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from convergence.support import school_holidays

FIXTURE = Path(__file__).parent / "fixtures" / "zone-a.ics"


def test_shipped_data_covers_two_school_years_with_the_five_holidays():
    holidays = school_holidays.read()
    assert holidays[0].first_day <= dt.date(2025, 10, 18)
    assert holidays[-1].last_day >= dt.date(2027, 7, 31)
    names = {holiday.name for holiday in holidays}
    assert {"Vacances de la Toussaint", "Vacances de Noël", "Vacances d'hiver"} <= names
    assert {"Vacances de printemps", "Vacances d'été"} <= names
    assert all(holiday.first_day <= holiday.last_day for holiday in holidays)


def test_ics_events_become_periods_ending_the_day_before_classes_resume():
    found = school_holidays.parse_ics(FIXTURE.read_text(encoding="utf-8"))
    assert [(h.name, h.first_day, h.last_day) for h in found] == [
        ("Vacances de la Toussaint", dt.date(2026, 10, 17), dt.date(2026, 11, 1)),
        # UTC instants are read as Paris days: 18 Dec 23:00 UTC is 19 December.
        ("Vacances de Noël", dt.date(2026, 12, 19), dt.date(2027, 1, 3)),
        # Folded lines are joined; TZID is honoured.
        ("Vacances d'Hiver", dt.date(2027, 2, 13), dt.date(2027, 2, 28)),
        # No DTEND: the summer lasts until the next event (the rentrée).
        ("Vacances d'Été", dt.date(2027, 7, 3), dt.date(2027, 8, 31)),
    ]


def test_a_file_without_events_is_refused():
    with pytest.raises(school_holidays.CalendarError):
        school_holidays.parse_ics("BEGIN:VCALENDAR\nEND:VCALENDAR\n")


def test_the_command_rewrites_the_data_file(tmp_path):
    output = tmp_path / "zone_a.json"
    call_command("update_school_holidays", str(FIXTURE), output=output)
    data = json.loads(output.read_text(encoding="utf-8"))
    assert data["source"] == str(FIXTURE)
    assert data["holidays"][0] == {
        "name": "Vacances de la Toussaint",
        "first_day": "2026-10-17",
        "last_day": "2026-11-01",
    }
    assert len(school_holidays.read(output)) == 4


def test_the_command_says_what_is_wrong_with_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Impossible de lire"):
        call_command("update_school_holidays", str(tmp_path / "absent.ics"))
