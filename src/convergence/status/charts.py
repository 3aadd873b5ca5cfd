"""The status pages' charts, drawn on the server as SVG (no script): the 90 daily uptime bars
and the response times of the last 24 hours.

Each chart is an image (``role="img"``) named by a sentence that says what it shows
(``aria-labelledby`` on its own ``<title>``): colour is never the only carrier, and the page
adds a text alternative (the days below 100 % in a table). Everything written into the SVG
is escaped (``format_html``), the service names and dates included.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

# Thresholds of the daily bars (percent), and their colours (the DSFR's success, warning
# and error tones; grey where nothing was measured).
GOOD = 99.9
FAIR = 95.0
COLOURS = {"good": "#18753c", "fair": "#b34000", "bad": "#ce0500", "none": "#929292"}

BAR_WIDTH = 4
BAR_GAP = 1
BAR_HEIGHT = 34

CHART_WIDTH = 480
CHART_HEIGHT = 160
PAD_LEFT = 52
PAD_RIGHT = 12
PAD_TOP = 14
PAD_BOTTOM = 26


def percent(value: float | None) -> str:
    """« 99,95 % »: rounded down to two decimals (never 100 % for a day with a failure),
    French separators, no trailing zeros; « — » when nothing was measured."""
    if value is None:
        return "—"
    floored = math.floor(float(value) * 100) / 100
    text = formats.number_format(floored, decimal_pos=2)
    if "," in text or "." in text:
        text = text.rstrip("0").rstrip(",.")
    return f"{text}\N{NO-BREAK SPACE}%"


def milliseconds(value: float) -> str:
    return f"{formats.number_format(round(value))}\N{NO-BREAK SPACE}ms"


def _date(value: str) -> str:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return value
    return formats.date_format(day, "j F Y")


def tone(value: float | None) -> str:
    """``good``, ``fair``, ``bad`` or ``none``: the bar's colour, by the thresholds."""
    if value is None:
        return "none"
    if value >= GOOD:
        return "good"
    if value >= FAIR:
        return "fair"
    return "bad"


def _days(days: Sequence[Sequence[Any]]) -> list[tuple[str, float | None]]:
    """The snapshot's days (today first) as (ISO date, uptime), oldest first."""
    found = []
    for entry in days:
        if len(entry) < 2:
            continue
        value = entry[1]
        found.append((str(entry[0]), float(value) if value is not None else None))
    found.sort(key=lambda pair: pair[0])
    return found


def days_below_full(days: Sequence[Sequence[Any]]) -> list[dict[str, str]]:
    """The measured days under 100 %, newest first: the chart's text alternative."""
    return [
        {"date": _date(day), "uptime": percent(value)}
        for day, value in reversed(_days(days))
        if value is not None and value < 100
    ]


def uptime_summary(days: Sequence[Sequence[Any]]) -> str:
    """One sentence saying what the bars show."""
    ordered = _days(days)
    measured = [value for _day, value in ordered if value is not None]
    if not measured:
        return _("Disponibilité sur %(count)s jours : aucune mesure.") % {"count": len(ordered)}
    below = sum(1 for value in measured if value < 100)
    return _(
        "Disponibilité jour par jour sur %(count)s jours — jours mesurés : %(measured)s ; "
        "sous 100 %% : %(below)s ; le plus bas : %(lowest)s."
    ) % {
        "count": len(ordered),
        "measured": len(measured),
        "below": below,
        "lowest": percent(min(measured)),
    }


def _compact_bars(ordered: list[tuple[str, float | None]]) -> SafeString:
    """The bars as one dashed stroke per run of days of the same tone (a dash per day, the
    gap between bars as the dash's gap): a few hundred bytes instead of 90 elements, for the
    page that shows every service (its service page has the detailed chart)."""
    runs: list[tuple[str, int, int]] = []
    for index, (_day, value) in enumerate(ordered):
        name = tone(value)
        if runs and runs[-1][0] == name:
            runs[-1] = (name, runs[-1][1], index)
        else:
            runs.append((name, index, index))
    step = BAR_WIDTH + BAR_GAP
    return format_html_join(
        "",
        '<path stroke="{}" data-tone="{}" stroke-width="{}" stroke-dasharray="{} {}" '
        'd="M{} {}H{}"/>',
        (
            (
                COLOURS[name],
                name,
                BAR_HEIGHT,
                BAR_WIDTH,
                BAR_GAP,
                first * step,
                BAR_HEIGHT // 2,
                last * step + BAR_WIDTH,
            )
            for name, first, last in runs
        ),
    )


def uptime_bars(
    days: Sequence[Sequence[Any]], *, ident: str = "disponibilite", detailed: bool = True
) -> SafeString:
    """The daily bars, oldest on the left; ``detailed``: each with its date and uptime as its
    title (the service's own page), else drawn compactly (the page of every service)."""
    ordered = _days(days)
    summary_id = f"{ident}-resume"
    width = max(len(ordered), 1) * (BAR_WIDTH + BAR_GAP) - BAR_GAP
    bars = _compact_bars(ordered) if not detailed else _detailed_bars(ordered)
    return format_html(
        '<svg class="cv-status-bars" xmlns="http://www.w3.org/2000/svg" role="img" '
        'aria-labelledby="{}" viewBox="0 0 {} {}" width="100%" height="{}" '
        'preserveAspectRatio="none" focusable="false">'
        '<title id="{}">{}</title>{}</svg>',
        summary_id,
        width,
        BAR_HEIGHT,
        BAR_HEIGHT,
        summary_id,
        uptime_summary(days),
        bars,
    )


def _detailed_bars(ordered: list[tuple[str, float | None]]) -> SafeString:
    """One bar a day, its date and uptime as its title."""
    return format_html_join(
        "",
        '<rect x="{}" y="0" width="{}" height="{}" rx="1" fill="{}" data-tone="{}">'
        "<title>{} : {}</title></rect>",
        (
            (
                index * (BAR_WIDTH + BAR_GAP),
                BAR_WIDTH,
                BAR_HEIGHT,
                COLOURS[tone(value)],
                tone(value),
                _date(day),
                percent(value) if value is not None else _("pas de mesure"),
            )
            for index, (day, value) in enumerate(ordered)
        ),
    )


def _points(points: Sequence[Sequence[Any]]) -> list[tuple[str, float | None]]:
    found = []
    for entry in points:
        if len(entry) < 2:
            continue
        value = entry[1]
        found.append((str(entry[0]), float(value) if value is not None else None))
    return found


def response_summary(points: Sequence[Sequence[Any]]) -> str:
    """« Temps de réponse moyen sur 24 h : de 120 à 340 ms »."""
    values = [value for _hour, value in _points(points) if value is not None]
    if not values:
        return _("Temps de réponse moyen sur 24 h : aucune mesure.")
    return _("Temps de réponse moyen sur 24 h : de %(low)s à %(high)s ms.") % {
        "low": formats.number_format(round(min(values))),
        "high": formats.number_format(round(max(values))),
    }


def _hour_label(value: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return ""
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return f"{moment.hour}\N{NO-BREAK SPACE}h"


def response_times(points: Sequence[Sequence[Any]], *, ident: str = "temps-reponse") -> SafeString:
    """The hourly averages as a line (broken where an hour has no measure), with the lowest
    and highest values written on the left and the first and last hours below."""
    hours = _points(points)
    summary_id = f"{ident}-resume"
    values = [value for _hour, value in hours if value is not None]
    plot_width = CHART_WIDTH - PAD_LEFT - PAD_RIGHT
    plot_height = CHART_HEIGHT - PAD_TOP - PAD_BOTTOM
    parts: list[SafeString] = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#929292" stroke-width="1"/>',
            PAD_LEFT,
            PAD_TOP + plot_height,
            PAD_LEFT + plot_width,
            PAD_TOP + plot_height,
        )
    ]
    if values:
        low, high = min(values), max(values)
        top = high * 1.1 or 1.0
        step = plot_width / max(len(hours) - 1, 1)

        def y(value: float) -> float:
            return round(PAD_TOP + plot_height - value / top * plot_height, 1)

        runs: list[list[str]] = [[]]
        for index, (_hour, value) in enumerate(hours):
            if value is None:
                if runs[-1]:
                    runs.append([])
                continue
            runs[-1].append(f"{round(PAD_LEFT + index * step, 1)},{y(value)}")
        for run in runs:
            if len(run) == 1:
                x_text, y_text = run[0].split(",")
                parts.append(
                    format_html('<circle cx="{}" cy="{}" r="2.5" fill="#000091"/>', x_text, y_text)
                )
            elif run:
                parts.append(
                    format_html(
                        '<polyline points="{}" fill="none" stroke="#000091" stroke-width="2" '
                        'stroke-linejoin="round"/>',
                        " ".join(run),
                    )
                )
        for value in {low, high}:
            parts.append(
                format_html(
                    '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#dddddd" '
                    'stroke-dasharray="3 3"/>'
                    '<text x="{}" y="{}" text-anchor="end" font-size="11" fill="#3a3a3a">{}</text>',
                    PAD_LEFT,
                    y(value),
                    PAD_LEFT + plot_width,
                    y(value),
                    PAD_LEFT - 6,
                    y(value) + 4,
                    milliseconds(value),
                )
            )
    else:
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" font-size="12" fill="#3a3a3a">{}</text>',
                CHART_WIDTH / 2,
                CHART_HEIGHT / 2,
                _("Aucune mesure"),
            )
        )
    if hours:
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="11" fill="#3a3a3a">{}</text>'
                '<text x="{}" y="{}" text-anchor="end" font-size="11" fill="#3a3a3a">{}</text>',
                PAD_LEFT,
                CHART_HEIGHT - 8,
                _hour_label(hours[0][0]),
                PAD_LEFT + plot_width,
                CHART_HEIGHT - 8,
                _hour_label(hours[-1][0]),
            )
        )
    return format_html(
        '<svg class="cv-status-response" xmlns="http://www.w3.org/2000/svg" role="img" '
        'aria-labelledby="{}" viewBox="0 0 {} {}" width="100%" focusable="false">'
        '<title id="{}">{}</title>{}</svg>',
        summary_id,
        CHART_WIDTH,
        CHART_HEIGHT,
        summary_id,
        response_summary(points),
        format_html_join("", "{}", ((part,) for part in parts)),
    )
