"""Dates and times are written one way everywhere (core/formats/fr/formats.py), in Paris
time: « 3 décembre 2026 à 19:24 » — pages, e-mails and the administration alike."""

from __future__ import annotations

import datetime
import re

from django.template import Context, Template
from django.test import Client
from django.utils import formats, timezone, translation

from convergence.audit.models import AuditEvent
from tests.helpers import client_of

# 18:24 UTC on a winter day is 19:24 in Paris.
MOMENT = datetime.datetime(2026, 12, 3, 18, 24, tzinfo=datetime.UTC)
SUMMER = datetime.datetime(2026, 7, 14, 8, 5, tzinfo=datetime.UTC)
PORTAL_DATETIME = re.compile(
    r"\b\d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|"
    r"décembre) \d{4} à \d{2}:\d{2}\b"
)


def render(source: str, **values: object) -> str:
    with translation.override("fr"):
        return Template("{% load tz %}" + source).render(Context(values))


def test_the_portal_format_is_day_month_year_at_hours_and_minutes_in_paris():
    assert render('{{ when|date:"DATETIME_FORMAT" }}', when=MOMENT) == "3 décembre 2026 à 19:24"
    assert render('{{ when|date:"DATETIME_FORMAT" }}', when=SUMMER) == "14 juillet 2026 à 10:05"
    assert render('{{ when|date:"DATE_FORMAT" }}', when=MOMENT) == "3 décembre 2026"


def test_a_datetime_shown_as_is_takes_the_same_format():
    assert render("{{ when }}", when=MOMENT) == "3 décembre 2026 à 19:24"


def test_python_writes_the_same_format():
    with translation.override("fr"):
        written = formats.date_format(timezone.localtime(MOMENT), "DATETIME_FORMAT")
    assert written == "3 décembre 2026 à 19:24"


def test_machine_formats_stay_iso():
    assert render('{{ when|date:"c" }}', when=MOMENT) == "2026-12-03T19:24:00+01:00"


def test_the_devices_page_writes_dates_the_portal_way(pupil):
    page = client_of(pupil).get("/compte/appareils/").content.decode()
    assert PORTAL_DATETIME.search(page)
    assert not re.search(r"\b(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\b", page)


def test_the_administration_writes_dates_the_portal_way(client: Client, dsi, pupil):
    client.force_login(dsi)
    event = AuditEvent.objects.filter(subject=pupil).first()
    assert event is not None
    page = client.get("/administration/audit/auditevent/").content.decode()
    assert PORTAL_DATETIME.search(page)
    with translation.override("fr"):
        assert str(event).startswith(
            formats.date_format(timezone.localtime(event.occurred_at), "DATETIME_FORMAT")
        )
    assert "UTC" not in page
