"""Service status in the administration: probes and busy periods are set there (and rebuild
the snapshot once saved); incidents, windows and subscriptions are only looked at."""

from __future__ import annotations

import pytest
from django.urls import reverse

from convergence.portal.models import Service
from convergence.status import actions, receivers, snapshot
from convergence.status.models import Impact, Incident, PeakPeriod, Probe, Subscription
from tests.helpers import text_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _receivers() -> None:
    receivers.connect()  # idempotent (dispatch_uid), whether or not apps.py did it already


def test_the_dsi_lists_and_opens_probes(client, dsi):
    client.force_login(dsi)
    listing = text_of(client.get(reverse("admin:status_probe_changelist")))
    assert "http://127.0.0.1:8001/" in listing
    probe = Probe.objects.get(service__slug="ent", name="web")
    page = text_of(client.get(reverse("admin:status_probe_change", args=[probe.pk])))
    assert "État mesuré (écrit par les sondes)" in page
    assert 'name="state"' not in page  # the worker's running state is read-only
    assert 'name="target"' in page


def test_saving_a_probe_rebuilds_the_snapshot(client, dsi, django_capture_on_commit_callbacks):
    client.force_login(dsi)
    probe = Probe.objects.get(service__slug="ent", name="web")
    url = reverse("admin:status_probe_change", args=[probe.pk])
    data = {
        "service": probe.service_id,
        "name": probe.name,
        "kind": probe.kind,
        "target": "http://127.0.0.1:8009/",
        "expected_status": probe.expected_status,
        "keyword": probe.keyword,
        "certificate_warning_days": probe.certificate_warning_days,
        "slow_ms": probe.slow_ms,
        "interval_seconds": probe.interval_seconds,
        "timeout_seconds": probe.timeout_seconds,
        "retries": probe.retries,
        "down_after": probe.down_after,
        "up_after": probe.up_after,
    }  # is_enabled left out: the probe is switched off
    assert snapshot.current() is None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url, data)
    assert response.status_code == 302, text_of(response)
    assert callbacks
    probe.refresh_from_db()
    assert probe.target == "http://127.0.0.1:8009/" and not probe.is_enabled
    published = snapshot.current()
    assert published is not None
    assert "ent" not in [service["slug"] for service in published["services"]]


def test_adding_a_busy_period_rebuilds_the_snapshot(
    client, dsi, django_capture_on_commit_callbacks
):
    client.force_login(dsi)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:status_peakperiod_add"),
            {"name": "Brevet des collèges", "starts_on": "2027-06-28", "ends_on": "2027-06-29"},
        )
    assert response.status_code == 302, text_of(response)
    assert PeakPeriod.objects.filter(name="Brevet des collèges").exists()
    assert snapshot.current() is not None


def test_incidents_windows_and_subscriptions_are_read_only(client, dsi):
    incident = actions.open_incident(
        acting_user=dsi,
        title="ENT lent",
        impact=Impact.DEGRADED,
        services=[Service.objects.get(slug="ent")],
        message="Les pages s'affichent lentement.",
    )
    Subscription.objects.create(user=dsi, service=incident.services.get())
    client.force_login(dsi)
    page = text_of(client.get(reverse("admin:status_incident_change", args=[incident.pk])))
    assert "Les pages s'affichent lentement." in page  # its updates, inline
    assert 'name="title"' not in page
    for name in ("incident", "maintenance", "subscription"):
        assert client.get(reverse(f"admin:status_{name}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:status_{name}_add")).status_code == 403
    assert Incident.objects.filter(pk=incident.pk).exists()


def test_labels_are_french(client, dsi):
    client.force_login(dsi)
    index = text_of(client.get(reverse("admin:index")))
    for label in (
        "Sondes",
        "Périodes chargées du calendrier scolaire",
        "Incidents",
        "Maintenances",
    ):
        assert label in index
