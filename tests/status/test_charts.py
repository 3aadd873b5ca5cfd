"""The server-drawn SVG charts: colours by threshold but never alone (titles, a named image,
a summary sentence), everything escaped, French numbers and dates."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from django.utils import translation

from convergence.status import charts

SVG = "{http://www.w3.org/2000/svg}"
NBSP = "\N{NO-BREAK SPACE}"


@pytest.fixture(autouse=True)
def _french():
    with translation.override("fr"):
        yield


def _days(values: list[float | None], today: dt.date = dt.date(2026, 12, 3)) -> list[list]:
    """The snapshot's shape: today first."""
    return [
        [(today - dt.timedelta(days=offset)).isoformat(), value]
        for offset, value in enumerate(values)
    ]


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314  (the charts' own output, built in the test)


def test_percent_is_french_and_never_rounds_up_to_100():
    assert charts.percent(99.95) == f"99,95{NBSP}%"
    assert charts.percent(99.8) == f"99,8{NBSP}%"
    assert charts.percent(100.0) == f"100{NBSP}%"
    assert charts.percent(99.999) == f"99,99{NBSP}%"
    assert charts.percent(None) == "—"


def test_ninety_bars_oldest_first_coloured_by_threshold():
    values: list[float | None] = [99.8, 100.0, 96.0, 50.0, None] + [100.0] * 85
    svg = str(charts.uptime_bars(_days(values), ident="disponibilite-ent"))
    root = _parse(svg)
    rects = root.findall(f"{SVG}rect")
    assert len(rects) == 90
    # Today is the last bar, on the right.
    titles = [rect.find(f"{SVG}title").text for rect in rects]
    assert titles[-1] == f"3 décembre 2026 : 99,8{NBSP}%"
    assert titles[-5] == "29 novembre 2026 : pas de mesure"
    tones = [rect.get("data-tone") for rect in rects[-5:]]
    assert tones == ["none", "bad", "fair", "good", "fair"]
    fills = {rect.get("data-tone"): rect.get("fill") for rect in rects}
    assert fills["none"] == charts.COLOURS["none"]
    assert fills["bad"] == charts.COLOURS["bad"]


def test_bars_are_a_named_image_with_a_summary():
    values: list[float | None] = [99.8, 100.0, 96.0] + [100.0] * 87
    svg = str(charts.uptime_bars(_days(values), ident="disponibilite-ent"))
    root = _parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "disponibilite-ent-resume"
    title = root.find(f"{SVG}title")
    assert title.get("id") == "disponibilite-ent-resume"
    assert "jours mesurés : 90" in title.text
    assert "sous 100 % : 2" in title.text
    assert f"96{NBSP}%" in title.text


def test_the_days_below_full_are_the_text_alternative():
    values: list[float | None] = [99.8, 100.0, None, 96.0] + [100.0] * 86
    below = charts.days_below_full(_days(values))
    assert below == [
        {"date": "3 décembre 2026", "uptime": f"99,8{NBSP}%"},
        {"date": "30 novembre 2026", "uptime": f"96{NBSP}%"},
    ]


def test_bars_without_any_measure():
    svg = str(charts.uptime_bars(_days([None] * 90)))
    root = _parse(svg)
    assert {rect.get("data-tone") for rect in root.findall(f"{SVG}rect")} == {"none"}
    assert "aucune mesure" in root.find(f"{SVG}title").text


def test_everything_written_into_the_svg_is_escaped():
    hostile = '"><script>alert(1)</script>'
    svg = str(charts.uptime_bars([[hostile, 99.0]], ident='x" onload="alert(1)'))
    assert "<script>" not in svg
    assert 'onload="alert' not in svg
    _parse(svg)  # still well-formed
    svg = str(charts.response_times([[hostile, 120]], ident="<b>"))
    assert "<script>" not in svg
    assert "<b>" not in svg
    _parse(svg)


def _hours(values: list[int | None]) -> list[list]:
    start = dt.datetime(2026, 12, 3, 0, tzinfo=dt.UTC)
    return [
        [(start + dt.timedelta(hours=index)).isoformat(), value]
        for index, value in enumerate(values)
    ]


def test_response_times_line_with_min_and_max_labels():
    values: list[int | None] = [200] * 24
    values[3], values[10] = 120, 340
    svg = str(charts.response_times(_hours(values), ident="temps-ent"))
    root = _parse(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "temps-ent-resume"
    title = root.find(f"{SVG}title")
    assert title.get("id") == "temps-ent-resume"
    assert title.text == "Temps de réponse moyen sur 24 h : de 120 à 340 ms."
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 1
    assert len(lines[0].get("points").split()) == 24
    labels = [text.text for text in root.findall(f"{SVG}text")]
    assert f"120{NBSP}ms" in labels
    assert f"340{NBSP}ms" in labels
    # The first and last hours, in local time (Paris: UTC+1 in December).
    assert "1\N{NO-BREAK SPACE}h" in labels
    assert "0\N{NO-BREAK SPACE}h" in labels


def test_response_times_break_where_an_hour_has_no_measure():
    values: list[int | None] = [150] * 24
    values[5] = None
    values[20] = None
    svg = str(charts.response_times(_hours(values)))
    root = _parse(svg)
    lines = root.findall(f"{SVG}polyline")
    assert [len(line.get("points").split()) for line in lines] == [5, 14, 3]
    # One value: a single label, not two.
    assert [text.text for text in root.findall(f"{SVG}text")].count(f"150{NBSP}ms") == 1


def test_response_times_without_measure():
    svg = str(charts.response_times(_hours([None] * 24)))
    root = _parse(svg)
    assert root.findall(f"{SVG}polyline") == []
    assert root.find(f"{SVG}title").text == "Temps de réponse moyen sur 24 h : aucune mesure."
    assert "Aucune mesure" in [text.text for text in root.findall(f"{SVG}text")]
    # No data at all: still a well-formed image.
    assert re.search(r"<svg[^>]*role=\"img\"", str(charts.response_times([])))
