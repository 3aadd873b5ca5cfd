"""The status sections of the demo blueprint: probes, busy periods, the demo's history."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from convergence.core.blueprints import BlueprintError, apply
from convergence.status.models import (
    Incident,
    IncidentUpdate,
    Maintenance,
    PeakPeriod,
    Probe,
    ProbeState,
    Stage,
)
from tests.conftest import DEMO_BLUEPRINT, demo_blueprint

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        "probes": Probe.objects.count(),
        "peaks": PeakPeriod.objects.count(),
        "incidents": Incident.objects.count(),
        "updates": IncidentUpdate.objects.count(),
        "maintenances": Maintenance.objects.count(),
    }


def test_demo_blueprint_loads_status(demo: None) -> None:
    probes = {(p.service.slug, p.name): p for p in Probe.objects.select_related("service")}
    assert set(probes) == {("ent", "web"), ("arena", "web")}
    ent = probes["ent", "web"]
    assert (ent.kind, ent.target, ent.keyword) == ("http", "http://127.0.0.1:8001/", "ENT")
    assert (ent.interval_seconds, ent.timeout_seconds, ent.retries) == (20, 3.0, 1)
    assert (ent.down_after, ent.up_after, ent.state) == (2, 2, ProbeState.UNKNOWN)

    periods = {period.name: period for period in PeakPeriod.objects.all()}
    assert len(periods) == 6
    monday = periods["Lundi matin (arrivée de tous les élèves et personnels)"]
    assert (monday.weekday, monday.start_time, monday.end_time) == (
        0,
        dt.time(7, 30),
        dt.time(9, 30),
    )
    rentree = periods["Rentrée scolaire"]
    assert (rentree.starts_on, rentree.ends_on, rentree.start_time) == (
        dt.date(2026, 8, 31),
        dt.date(2026, 9, 11),
        None,
    )
    councils = periods["Conseils de classe du premier trimestre"]
    assert (councils.start_time, councils.end_time) == (dt.time(16), dt.time(20))

    incident = Incident.objects.get()
    assert incident.is_published
    assert incident.resolved_at is not None
    assert incident.time_to_resolve == dt.timedelta(minutes=120)
    assert [service.slug for service in incident.services.all()] == ["ent"]
    assert incident.impact == "indisponible"
    assert incident.postmortem.startswith("La mise à jour de nuit")
    stages = list(incident.updates.order_by("posted_at").values_list("stage", flat=True))
    assert stages == [Stage.INVESTIGATING, Stage.IDENTIFIED, Stage.MONITORING, Stage.RESOLVED]
    assert incident.updates.filter(author__first_name="Isabelle").count() == 4

    window = Maintenance.objects.get()
    now = timezone.now()
    assert window.starts_at > now
    assert window.ends_at - window.starts_at == dt.timedelta(hours=2)
    assert timezone.localtime(window.starts_at).hour == 20
    assert [service.slug for service in window.services.all()] == ["arena"]
    assert Maintenance.objects.upcoming(now).count() == 1


def test_loading_again_changes_nothing(demo: None) -> None:
    before = counts()
    ent = Probe.objects.get(service__slug="ent")
    # The running state the worker wrote is kept by a reload of the same target.
    Probe.objects.filter(pk=ent.pk).update(state=ProbeState.DOWN, consecutive_failures=4)
    apply(demo_blueprint(), source=str(DEMO_BLUEPRINT))
    assert counts() == before
    ent.refresh_from_db()
    assert (ent.state, ent.consecutive_failures) == (ProbeState.DOWN, 4)


def test_changed_target_forgets_the_running_state(demo: None) -> None:
    Probe.objects.filter(service__slug="ent").update(state=ProbeState.DOWN, consecutive_failures=4)
    probes = [
        {**item, "target": "http://127.0.0.1:8011/"} if item["service"] == "ent" else item
        for item in demo_blueprint()["status_probes"]
    ]
    apply({"status_probes": probes}, source="test")
    ent = Probe.objects.get(service__slug="ent")
    assert (ent.target, ent.state, ent.consecutive_failures) == (
        "http://127.0.0.1:8011/",
        ProbeState.UNKNOWN,
        0,
    )


def _probe(**fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = copy.deepcopy(demo_blueprint()["status_probes"][0])
    item.update(fields)
    return item


def test_bad_probe_kind_is_refused_in_french(demo: None) -> None:
    with pytest.raises(BlueprintError) as raised:
        apply({"status_probes": [_probe(name="ping", kind="icmp")]}, source="test")
    assert str(raised.value) == ("Sonde ent/ping : type « icmp » inconnu (http, tcp, imap, smtp).")
    assert not Probe.objects.filter(name="ping").exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"service": "nulle-part"}, "Sonde nulle-part/web : service inconnu « nulle-part »."),
        ({"frequency": 10}, "Sonde ent/web : champs inconnus frequency."),
        ({"interval": 5}, "Sonde ent/web : l'intervalle est d'au moins 10 secondes."),
    ],
)
def test_bad_probes_are_refused(demo: None, fields: dict[str, Any], message: str) -> None:
    with pytest.raises(BlueprintError) as raised:
        apply({"status_probes": [_probe(**fields)]}, source="test")
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            {"name": "Soirée", "every": "lundi", "hours": "18:00-20:00"},
            "Période chargée « Soirée » : jour inconnu « lundi ».",
        ),
        (
            {"name": "Soirée", "every": "monday"},
            "Période chargée « Soirée » : une période hebdomadaire a des horaires.",
        ),
        (
            {"name": "Soirée", "from": "2027-01-10", "to": "2027-01-05"},
            "Période chargée « Soirée » : la fin précède le début.",
        ),
        (
            {"name": "Soirée", "from": "2027-01-10", "hours": "20:00-18:00"},
            "Période chargée « Soirée » : « 20:00-18:00 » finit avant de commencer.",
        ),
        (
            {"name": "Soirée", "from": "le 10 janvier"},
            "Période chargée « Soirée » : date illisible « le 10 janvier ».",
        ),
    ],
)
def test_bad_peaks_are_refused(db: None, item: dict[str, Any], message: str) -> None:
    with pytest.raises(BlueprintError) as raised:
        apply({"status_peaks": [item]}, source="test")
    assert str(raised.value) == message


def test_peak_hours_written_the_french_way(db: None) -> None:
    apply(
        {"status_peaks": [{"name": "Soirée", "from": "2027-01-10", "hours": "18h-20h30"}]},
        source="test",
    )
    period = PeakPeriod.objects.get()
    assert (period.starts_on, period.ends_on) == (dt.date(2027, 1, 10), dt.date(2027, 1, 10))
    assert (period.start_time, period.end_time) == (dt.time(18), dt.time(20, 30))
