"""Raw results are kept 7 days, hourly aggregates 90 (``status.retention.purge``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from convergence.portal.models import Service
from convergence.status import retention
from convergence.status.models import HourlyStat, Probe, ProbeResult

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def test_purge_keeps_seven_days_of_results_and_ninety_of_hours() -> None:
    service = Service.objects.create(
        name="ENT",
        slug="ent-retention",
        description="ENT",
        url="https://ent.example.org/",
        category="scolarite",
    )
    probe = Probe.objects.create(service=service, name="web", kind="http", target="http://x/")
    ages = {
        "old": dt.timedelta(days=7, seconds=1),
        "very old": dt.timedelta(days=30),
        "kept": dt.timedelta(days=6, hours=23),
        "edge": dt.timedelta(days=7),
        "new": dt.timedelta(minutes=1),
    }
    for age in ages.values():
        ProbeResult.objects.create(probe=probe, checked_at=NOW - age, ok=True, response_ms=12)
    hours = {
        "old": dt.timedelta(days=91),
        "just old": dt.timedelta(days=90, hours=1),
        "kept": dt.timedelta(days=89),
        "edge": dt.timedelta(days=90),
        "new": dt.timedelta(hours=1),
    }
    for age in hours.values():
        HourlyStat.objects.create(probe=probe, hour=NOW - age, checks=60, failures=1)

    deleted = retention.purge(now=NOW)

    assert deleted == 4
    kept_results = set(ProbeResult.objects.values_list("checked_at", flat=True))
    assert kept_results == {NOW - ages[key] for key in ("kept", "edge", "new")}
    kept_hours = set(HourlyStat.objects.values_list("hour", flat=True))
    assert kept_hours == {NOW - hours[key] for key in ("kept", "edge", "new")}
    # Nothing more to delete the second time.
    assert retention.purge(now=NOW) == 0


def test_purge_follows_the_settings(settings: Any) -> None:
    settings.STATUS_RAW_RETENTION_DAYS = 1
    service = Service.objects.create(
        name="Arena",
        slug="arena-retention",
        description="Arena",
        url="https://arena.example.org/",
        category="gestion",
    )
    probe = Probe.objects.create(service=service, name="web", kind="tcp", target="h:1")
    ProbeResult.objects.create(probe=probe, checked_at=NOW - dt.timedelta(days=2), ok=False)
    ProbeResult.objects.create(probe=probe, checked_at=NOW - dt.timedelta(hours=2), ok=True)
    assert retention.purge(now=NOW) == 1
    assert ProbeResult.objects.get().ok
