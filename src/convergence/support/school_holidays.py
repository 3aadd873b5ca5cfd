"""School holidays of zone A (académie de Besançon), shipped as data in
``data/school_holidays_zone_a.json`` and replaced by ``manage.py update_school_holidays``
from the Éducation nationale's calendar (ICS, one file per zone).

A period is stored as its first and last day off, both inclusive: the official calendar's
"fin des cours" (a Saturday) to the day before "reprise des cours".
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

DATA_FILE = Path(__file__).resolve().parent / "data" / "school_holidays_zone_a.json"
PARIS = ZoneInfo("Europe/Paris")


class CalendarError(ValueError):
    """A calendar file that cannot be read; the message says why, in French."""


@dataclass(frozen=True)
class Holiday:
    name: str
    first_day: dt.date
    last_day: dt.date


def read(path: Path = DATA_FILE) -> list[Holiday]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        Holiday(
            name=item["name"],
            first_day=dt.date.fromisoformat(item["first_day"]),
            last_day=dt.date.fromisoformat(item["last_day"]),
        )
        for item in data["holidays"]
    ]


@functools.cache
def periods() -> tuple[tuple[dt.date, dt.date], ...]:
    """The shipped periods (read once per process; ``write`` forgets them)."""
    return tuple((holiday.first_day, holiday.last_day) for holiday in read())


def write(holidays: list[Holiday], *, source: str, path: Path = DATA_FILE) -> None:
    data = {
        "zone": "A",
        "source": source,
        "holidays": [
            {
                "name": holiday.name,
                "first_day": holiday.first_day.isoformat(),
                "last_day": holiday.last_day.isoformat(),
            }
            for holiday in sorted(holidays, key=lambda h: h.first_day)
        ],
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    periods.cache_clear()


def _unfold(text: str) -> list[str]:
    """RFC 5545 lines: a line starting with a space or a tab continues the previous one."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw:
            lines.append(raw)
    return lines


def _unescape(value: str) -> str:
    return re.sub(r"\\([,;nN\\])", lambda m: "\n" if m[1] in "nN" else m[1], value).strip()


def _date(params: str, value: str) -> dt.date:
    """A DATE (``20251018``) or DATE-TIME (UTC ``…Z``, with ``TZID``, or floating) as the
    Paris day it falls on."""
    try:
        day = dt.date.fromisoformat(value[:8])
        if "T" not in value:
            return day
        at = dt.time.fromisoformat(value[9:15])
    except ValueError as error:
        raise CalendarError(f"Date illisible dans le calendrier : {value}") from error
    if value.endswith("Z"):
        return dt.datetime.combine(day, at, tzinfo=dt.UTC).astimezone(PARIS).date()
    match = re.search(r"TZID=([^;:]+)", params)
    if match:
        try:
            zone = ZoneInfo(match[1].strip('"'))
        except (KeyError, ValueError):
            return day
        return dt.datetime.combine(day, at, tzinfo=zone).astimezone(PARIS).date()
    return day


def parse_ics(text: str) -> list[Holiday]:
    """The holidays ("vacances") of an iCalendar file: each VEVENT from DTSTART (first day
    off) to DTEND (the day classes resume, excluded). An event without DTEND (the summer, in
    some files) ends when the next event of the file begins (the rentrée)."""
    events: list[dict[str, tuple[str, str]]] = []
    current: dict[str, tuple[str, str]] | None = None
    for line in _unfold(text):
        name_and_params, _, value = line.partition(":")
        name, _, params = name_and_params.partition(";")
        name = name.upper()
        if name == "BEGIN" and value.upper() == "VEVENT":
            current = {}
        elif name == "END" and value.upper() == "VEVENT":
            if current is not None:
                events.append(current)
            current = None
        elif current is not None:
            current[name] = (params, value)
    if not events:
        raise CalendarError("Aucun évènement (VEVENT) dans le calendrier.")
    starts = sorted(_date(*event["DTSTART"]) for event in events if "DTSTART" in event)
    found: dict[tuple[dt.date, dt.date], Holiday] = {}
    for event in events:
        summary = _unescape(event.get("SUMMARY", ("", ""))[1])
        if "DTSTART" not in event or "vacances" not in summary.lower():
            continue
        first = _date(*event["DTSTART"])
        if "DTEND" in event:
            resume = _date(*event["DTEND"])
        else:
            later = [start for start in starts if start > first]
            if not later:
                continue
            resume = later[0]
        last = max(first, resume - dt.timedelta(days=1))
        name = re.sub(r"\s*-\s*Zone\s+[ABC]\b.*$", "", summary, flags=re.IGNORECASE)
        found[(first, last)] = Holiday(name=name, first_day=first, last_day=last)
    if not found:
        raise CalendarError("Aucune période de vacances dans le calendrier.")
    return sorted(found.values(), key=lambda holiday: holiday.first_day)
