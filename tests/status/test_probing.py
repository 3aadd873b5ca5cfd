"""Rounds of the worker against a local HTTP server switched between up and down.

Each round runs at an explicit ``now`` moved on by the probe's interval, so the probe is due
at each one; the checks themselves are real requests to 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from convergence.portal.models import Service
from convergence.status import actions, probing, snapshot
from convergence.status.models import (
    HourlyStat,
    Impact,
    Incident,
    Probe,
    ProbeResult,
    ProbeState,
    Stage,
)
from tests.status.test_checks import Behaviour, serve_http

pytestmark = pytest.mark.django_db

# A Monday morning in December, UTC; every round of a test stays within this hour.
START = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
INTERVAL = 60


class Rounds:
    """The worker's rounds, one probe interval apart."""

    def __init__(self) -> None:
        self.now = START

    def run(self, count: int = 1) -> list[probing.Transition]:
        transitions: list[probing.Transition] = []
        for _ in range(count):
            transitions += probing.run_round(now=self.now)
            self.now += dt.timedelta(seconds=INTERVAL)
        return transitions

    @property
    def last(self) -> dt.datetime:
        return self.now - dt.timedelta(seconds=INTERVAL)


@pytest.fixture
def server() -> Iterator[tuple[str, Behaviour]]:
    behaviour = Behaviour()
    with serve_http(behaviour) as (url, _server):
        yield url, behaviour


@pytest.fixture
def service(db: None) -> Service:
    # The demo's own probes (when the demo is loaded) aim at ports nobody listens on here.
    Probe.objects.update(is_enabled=False)
    return Service.objects.create(
        name="ENT de test",
        slug="ent-de-test",
        description="Un service sondé par les tests.",
        url="https://ent.example.org/",
        category="scolarite",
    )


def make_probe(service: Service, url: str, **fields: Any) -> Probe:
    values: dict[str, Any] = {
        "name": "web",
        "kind": "http",
        "target": url,
        "timeout_seconds": 2.0,
        "retries": 0,
        "interval_seconds": INTERVAL,
        "down_after": 3,
        "up_after": 2,
        **fields,
    }
    return Probe.objects.create(service=service, **values)


def state_of(probe: Probe) -> str:
    probe.refresh_from_db()
    return probe.state


def service_state(slug: str, now: dt.datetime) -> dict[str, Any]:
    built = snapshot.build(now=now)
    return next(entry for entry in built["services"] if entry["slug"] == slug)


def test_flap_damping_opens_one_draft_and_recovery_resolves_it(
    server: tuple[str, Behaviour], service: Service
) -> None:
    url, behaviour = server
    probe = make_probe(service, url)
    rounds = Rounds()

    transitions = rounds.run()
    assert [(t.before, t.after) for t in transitions] == [("unknown", "up")]
    assert state_of(probe) == ProbeState.UP

    behaviour.status = 503
    assert rounds.run(2) == []
    # Two failures in a row: still up (flap damping), no incident.
    assert state_of(probe) == ProbeState.UP
    assert probe.consecutive_failures == 2
    assert probe.last_error == "code HTTP 503 au lieu de 200"
    assert not Incident.objects.exists()

    # The third makes it down and opens one draft.
    assert [t.after for t in rounds.run()] == ["down"]
    assert state_of(probe) == ProbeState.DOWN
    draft = Incident.objects.drafts().get()
    assert draft.opened_automatically
    assert draft.impact == Impact.DOWN
    assert list(draft.services.all()) == [service]
    assert draft.opened_at == rounds.last
    assert draft.updates.get().stage == Stage.INVESTIGATING
    assert service_state(service.slug, rounds.last)["state"] == "indisponible"

    # A fourth failure opens no second one.
    rounds.run()
    assert Incident.objects.count() == 1

    behaviour.status = 200
    # One success: still down (up_after=2), the draft stays open.
    assert rounds.run() == []
    assert state_of(probe) == ProbeState.DOWN
    assert probe.consecutive_successes == 1
    assert Incident.objects.drafts().count() == 1

    # The second brings it up and resolves the worker's draft.
    assert [(t.before, t.after) for t in rounds.run()] == [("down", "up")]
    draft.refresh_from_db()
    assert draft.resolved_at == rounds.last
    assert not draft.is_published
    assert draft.updates.filter(stage=Stage.RESOLVED).count() == 1
    assert not Incident.objects.drafts().exists()

    # 7 checks (1 up, 4 down, 2 up), 4 of them failures, all within START's hour.
    assert ProbeResult.objects.filter(probe=probe).count() == 7
    stat = HourlyStat.objects.get(probe=probe)
    assert (stat.hour, stat.checks, stat.failures) == (START, 7, 4)
    assert stat.max_ms >= 0

    entry = service_state(service.slug, rounds.last)
    assert entry["state"] == "operationnel"
    assert entry["monitored"]
    assert entry["uptime"]["24h"] == pytest.approx(100 * 3 / 7, abs=0.001)
    assert entry["uptime"]["7d"] == entry["uptime"]["24h"]
    assert entry["checked_at"] == rounds.last.isoformat()


def test_hourly_stats_split_by_hour(server: tuple[str, Behaviour], service: Service) -> None:
    url, behaviour = server
    probe = make_probe(service, url, interval_seconds=20 * 60)
    rounds = Rounds()
    behaviour.status = 503
    rounds.now = START + dt.timedelta(minutes=30)
    for _ in range(3):  # 9:30, 9:50, 10:10
        probing.run_round(now=rounds.now)
        rounds.now += dt.timedelta(minutes=20)
    rows = {row.hour: (row.checks, row.failures) for row in HourlyStat.objects.filter(probe=probe)}
    assert rows == {START: (2, 2), START + dt.timedelta(hours=1): (1, 1)}
    entry = service_state(service.slug, START + dt.timedelta(minutes=70))
    assert entry["uptime"]["24h"] == 0.0


def test_no_incident_during_maintenance(server: tuple[str, Behaviour], service: Service) -> None:
    url, behaviour = server
    probe = make_probe(service, url, down_after=2)
    rounds = Rounds()
    actions.schedule_maintenance(
        acting_user=None,
        title="Mise à jour de l'ENT",
        message="L'ENT est indisponible pendant sa mise à jour.",
        starts_at=START,
        ends_at=START + dt.timedelta(hours=1),
        services=[service],
    )
    rounds.run()
    behaviour.status = 503
    rounds.run(3)
    assert state_of(probe) == ProbeState.DOWN
    assert not Incident.objects.exists()
    assert service_state(service.slug, rounds.last)["state"] == "maintenance"

    # After the window, the next state change of the service opens a draft as usual.
    behaviour.status = 200
    rounds.run(2)
    assert state_of(probe) == ProbeState.UP
    rounds.now = START + dt.timedelta(hours=1, minutes=5)
    behaviour.status = 503
    rounds.run(2)
    assert Incident.objects.drafts().count() == 1
    assert service_state(service.slug, rounds.last)["state"] == "indisponible"


def test_published_incident_gets_monitoring_update_on_recovery(
    dsi: Any, server: tuple[str, Behaviour], service: Service
) -> None:
    url, behaviour = server
    # The demo (loaded for the DSI's account) has probes of its own: not checked here.
    assert not Probe.objects.filter(is_enabled=True).exists()
    make_probe(service, url, down_after=1, up_after=1)
    rounds = Rounds()
    rounds.run()
    behaviour.status = 503
    rounds.run()
    draft = Incident.objects.drafts().get()
    incident = actions.publish_draft(
        acting_user=dsi,
        incident=draft,
        title="ENT inaccessible",
        impact=Impact.DOWN,
        message="L'ENT ne répond plus. Nous cherchons la cause.",
    )
    assert incident.is_published

    behaviour.status = 200
    rounds.run()
    incident.refresh_from_db()
    # Confirmed by the DSI: the worker says it answers again, the DSI closes it.
    assert incident.resolved_at is None
    stages = list(incident.updates.values_list("stage", flat=True))
    assert stages == [Stage.MONITORING, Stage.INVESTIGATING]
    assert incident.updates.get(stage=Stage.INVESTIGATING).message.startswith("L'ENT ne répond")

    # Down and up again while it is still open: no second incident, no second message.
    behaviour.status = 503
    rounds.run()
    behaviour.status = 200
    rounds.run()
    assert Incident.objects.affecting(service).count() == 1
    assert incident.updates.filter(stage=Stage.MONITORING).count() == 1


def test_one_probe_of_two_down_is_degraded(server: tuple[str, Behaviour], service: Service) -> None:
    url, behaviour = server
    web = make_probe(service, url, down_after=2)
    port = url.rsplit(":", 1)[1].strip("/")
    tcp = make_probe(service, f"127.0.0.1:{port}", name="port", kind="tcp", down_after=2)
    rounds = Rounds()
    rounds.run()
    assert service_state(service.slug, rounds.last)["state"] == "operationnel"
    behaviour.status = 503
    rounds.run(2)
    assert state_of(web) == ProbeState.DOWN
    assert state_of(tcp) == ProbeState.UP
    assert service_state(service.slug, rounds.last)["state"] == "perturbe"
    incident = Incident.objects.drafts().get()
    assert incident.impact == Impact.DEGRADED


def test_claim_prevents_double_checking(server: tuple[str, Behaviour], service: Service) -> None:
    url, behaviour = server
    probe = make_probe(service, url)
    due = list(Probe.objects.due(START))
    assert due == [probe]
    assert probing._claim(due, START) == [probe]
    # The same rows, as another round read them before the first claimed them.
    assert probing._claim(due, START) == []
    probe.refresh_from_db()
    assert probe.next_check_at == START + dt.timedelta(seconds=INTERVAL)

    # Two rounds at the same moment: the probe is checked once.
    Probe.objects.filter(pk=probe.pk).update(next_check_at=None)
    probing.run_round(now=START)
    probing.run_round(now=START)
    assert behaviour.requests == 1
    assert ProbeResult.objects.count() == 1


def test_slow_answers_make_the_service_degraded(
    server: tuple[str, Behaviour], service: Service
) -> None:
    url, behaviour = server
    behaviour.delay = 0.05
    probe = make_probe(service, url, slow_ms=1, down_after=2)
    rounds = Rounds()
    rounds.run()
    # A first slow answer: up (slow needs down_after slow answers in a row).
    assert state_of(probe) == ProbeState.UP
    assert probe.last_response_ms is not None
    assert probe.last_response_ms >= 50
    rounds.run()
    assert state_of(probe) == ProbeState.SLOW
    assert service_state(service.slug, rounds.last)["state"] == "perturbe"
    # Slow is no outage: no incident.
    assert not Incident.objects.exists()

    behaviour.delay = 0
    probe.slow_ms = 3000
    probe.save(update_fields=["slow_ms"])
    rounds.run()
    assert state_of(probe) == ProbeState.UP
    assert service_state(service.slug, rounds.last)["state"] == "operationnel"


def test_disabled_probe_and_unpublished_service_are_not_checked(
    server: tuple[str, Behaviour], service: Service
) -> None:
    url, behaviour = server
    make_probe(service, url, is_enabled=False)
    probing.run_round(now=START)
    service.is_published = False
    service.save()
    make_probe(service, url, name="autre")
    probing.run_round(now=START)
    assert behaviour.requests == 0
    assert not ProbeResult.objects.exists()


def test_a_service_still_down_when_its_maintenance_ends_gets_its_draft(
    server: tuple[str, Behaviour], service: Service
) -> None:
    """Down during the window, and still down after it: no state change, but a draft."""
    url, behaviour = server
    probe = make_probe(service, url, down_after=2)
    rounds = Rounds()
    actions.schedule_maintenance(
        acting_user=None,
        title="Mise à jour de l'ENT",
        message="L'ENT est indisponible pendant sa mise à jour.",
        starts_at=START,
        ends_at=START + dt.timedelta(minutes=10),
        services=[service],
    )
    behaviour.status = 503
    rounds.run(3)
    assert state_of(probe) == ProbeState.DOWN
    assert not Incident.objects.exists()
    rounds.now = START + dt.timedelta(minutes=11)
    rounds.run()
    draft = Incident.objects.drafts().get()
    assert draft.opened_automatically


def test_a_draft_closed_as_a_false_alarm_is_not_opened_again_while_still_down(
    server: tuple[str, Behaviour], service: Service
) -> None:
    url, behaviour = server
    make_probe(service, url, down_after=2)
    rounds = Rounds()
    behaviour.status = 503
    rounds.run(2)
    draft = Incident.objects.drafts().get()
    actions.post_update(
        acting_user=None,
        incident=draft,
        stage=Stage.RESOLVED,
        message="La sonde se trompe : l'ENT répond par une autre adresse.",
        only_draft=True,
        now=rounds.now,
    )
    rounds.run(3)
    assert Incident.objects.count() == 1
    # Once the service has answered again, a new fall opens a new draft.
    behaviour.status = 200
    rounds.run(2)
    behaviour.status = 503
    rounds.run(2)
    assert Incident.objects.drafts().count() == 1
    assert Incident.objects.count() == 2


def test_a_published_incident_cannot_be_closed_as_an_unpublished_draft(service: Service) -> None:
    incident = actions.open_incident(
        acting_user=None,
        title="ENT indisponible",
        impact=Impact.DOWN,
        services=[service],
        message="L'ENT ne répond plus.",
    )
    with pytest.raises(actions.StatusError):
        actions.post_update(
            acting_user=None,
            incident=incident,
            stage=Stage.RESOLVED,
            message="Raison interne.",
            only_draft=True,
        )
    assert not incident.updates.filter(message="Raison interne.").exists()


def test_a_slow_round_is_not_overtaken_by_the_next_one(service: Service) -> None:
    """The claim outlasts the longest the check may take, not only the interval."""
    probe = make_probe(
        service, "http://127.0.0.1:9/", interval_seconds=10, timeout_seconds=20.0, retries=1
    )
    assert probing._claim([probe], START) == [probe]
    probe.refresh_from_db()
    assert probe.next_check_at is not None
    assert probe.next_check_at - START >= dt.timedelta(seconds=20 * 2 * 2)
    later = START + dt.timedelta(seconds=15)
    assert list(Probe.objects.due(later).filter(pk=probe.pk)) == []


def test_maintenance_starts_on_the_page_without_any_probe_due(service: Service) -> None:
    """No probe at all: the rounds still rebuild the snapshot when a window begins."""
    begins = START + dt.timedelta(minutes=5)
    actions.schedule_maintenance(
        acting_user=None,
        title="Mise à jour de l'ENT",
        message="L'ENT est arrêté.",
        starts_at=begins,
        ends_at=begins + dt.timedelta(hours=1),
        services=[service],
    )
    snapshot.refresh(now=START)
    probing.run_round(now=START + dt.timedelta(minutes=1))
    published = snapshot.current()
    assert published is not None
    state = next(s for s in published["services"] if s["slug"] == service.slug)["state"]
    assert state == "operationnel"
    snapshot.forget()
    probing.run_round(now=begins + dt.timedelta(seconds=30))
    snapshot.forget()
    published = snapshot.current()
    assert published is not None
    state = next(s for s in published["services"] if s["slug"] == service.slug)["state"]
    assert state == "maintenance"


def test_an_older_snapshot_never_replaces_a_newer_one(service: Service) -> None:
    older = snapshot.build(now=START)
    newer = snapshot.build(now=START)
    newer["marker"] = "newer"
    snapshot.publish(newer)
    snapshot.publish(older)
    snapshot.forget()
    published = snapshot.current()
    assert published is not None
    assert published.get("marker") == "newer"


def test_planned_maintenance_is_not_counted_as_downtime(
    server: tuple[str, Behaviour], service: Service
) -> None:
    url, behaviour = server
    probe = make_probe(service, url, down_after=2)
    rounds = Rounds()
    rounds.run(2)  # two good checks before the window
    actions.schedule_maintenance(
        acting_user=None,
        title="Mise à jour de l'ENT",
        message="L'ENT est arrêté pendant sa mise à jour.",
        starts_at=rounds.now,
        ends_at=rounds.now + dt.timedelta(minutes=3),
        services=[service],
    )
    behaviour.status = 503
    rounds.run(3)  # three failures, all inside the window
    assert ProbeResult.objects.filter(probe=probe, during_maintenance=True).count() == 3
    stat = HourlyStat.objects.get(probe=probe)
    assert (stat.checks, stat.failures) == (2, 0)
    assert service_state(service.slug, rounds.last)["uptime"]["24h"] == 100.0
    # After the window, a failure is downtime again.
    rounds.run()
    stat.refresh_from_db()
    assert (stat.checks, stat.failures) == (3, 1)
