"""The Atom feed (read back with feedparser, as a feed reader would) and the JSON document
(``docs/status-api.md``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import feedparser
import pytest
from django.utils import timezone

from convergence.status import snapshot
from tests.status.test_public_pages import make_status


@pytest.fixture
def status(demo: None, dsi: Any) -> dict[str, Any]:
    return make_status(dsi)


def _entries(client: Any) -> dict[str, Any]:
    response = client.get("/statut/flux.atom")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return {entry.id: entry for entry in parsed.entries}


def test_the_feed_has_one_entry_per_published_incident_and_maintenance(client, status):
    entries = _entries(client)
    incident = status["open"]
    found = [entry for entry in entries.values() if entry.title == incident.title]
    assert len(found) == 1
    entry = found[0]
    assert entry.link == f"http://127.0.0.1:8000/statut/incidents/{incident.pk}/"
    assert entry.id.startswith("tag:")
    # The latest update is the summary, its time the entry's.
    assert "Cause identifiée" in entry.summary
    assert "saturé" in entry.summary
    assert "<b>" not in entry.summary  # the DSI's text stays text
    latest = incident.updates.order_by("-posted_at").first()
    assert dt.datetime(*entry.updated_parsed[:6], tzinfo=dt.UTC) == latest.posted_at.replace(
        microsecond=0
    )
    resolved = [e for e in entries.values() if e.title == "Messagerie coupée"]
    assert resolved
    assert "Résolu" in resolved[0].summary
    window = status["window"]
    maintenance = [e for e in entries.values() if e.title.endswith("Mise à niveau d'Arena")]
    assert len(maintenance) == 1
    assert maintenance[0].title.startswith("Maintenance prévue")
    assert maintenance[0].link.endswith(f"/statut/#maintenance-{window.pk}")
    assert not any("Brouillon" in entry.title for entry in entries.values())


def test_the_feed_is_dated_by_its_latest_past_entry(client, status):
    parsed = feedparser.parse(client.get("/statut/flux.atom").content)
    updated = dt.datetime(*parsed.feed.updated_parsed[:6], tzinfo=dt.UTC)
    assert updated <= timezone.now()


def test_the_feed_without_snapshot_is_valid_and_empty(client, db):
    parsed = feedparser.parse(client.get("/statut/flux.atom").content)
    assert not parsed.bozo
    assert parsed.entries == []


def test_the_json_document(client, status):
    response = client.get("/statut/api.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cache-Control"] == "public, max-age=15"
    document = json.loads(response.content)
    assert set(document) == {"version", "generated_at", "services", "incidents", "maintenances"}
    assert document["version"] == 1
    assert document["generated_at"] == status["snapshot"]["generated_at"]
    services = {service["slug"]: service for service in document["services"]}
    assert set(services["ent"]) == {"slug", "name", "state", "state_label", "since", "uptime"}
    assert services["ent"]["state"] == "perturbe"
    assert services["ent"]["state_label"] == "Perturbé"
    assert services["ent"]["uptime"]["24h"] == 99.75
    assert services["arena"]["state"] == "operationnel"
    incidents = {incident["id"]: incident for incident in document["incidents"]}
    open_one = incidents[status["open"].pk]
    assert open_one["stage"] == "cause"
    assert open_one["stage_label"] == "Cause identifiée"
    assert open_one["impact"] == "perturbe"
    assert open_one["resolved_at"] is None
    assert open_one["services"] == ["ent"]
    assert open_one["url"] == f"/statut/incidents/{status['open'].pk}/"
    assert [update["stage"] for update in open_one["updates"]] == ["cause", "enquete"]
    assert incidents[status["resolved"].pk]["resolved_at"] is not None
    assert status["draft"].pk not in incidents
    windows = {window["id"]: window for window in document["maintenances"]}
    window = windows[status["window"].pk]
    assert window["active"] is False
    assert window["services"] == ["arena"]
    assert dt.datetime.fromisoformat(window["starts_at"]) == status["window"].starts_at


def test_the_json_document_before_the_first_snapshot(client, db):
    document = json.loads(client.get("/statut/api.json").content)
    assert document == {
        "version": 1,
        "generated_at": None,
        "services": [],
        "incidents": [],
        "maintenances": [],
    }


def test_the_json_document_follows_the_snapshot(client, status):
    from convergence.status.models import Probe, ProbeState

    Probe.objects.filter(service__slug="arena").update(state=ProbeState.DOWN)
    snapshot.refresh()
    snapshot.forget()
    document = json.loads(client.get("/statut/api.json").content)
    arena = next(service for service in document["services"] if service["slug"] == "arena")
    assert arena["state"] == "indisponible"
    assert arena["state_label"] == "Indisponible"


def test_a_control_character_typed_by_the_dsi_never_breaks_the_feed(client, status, dsi):
    from convergence.portal.models import Service
    from convergence.status import actions, snapshot

    actions.open_incident(
        acting_user=dsi,
        title="Messagerie\x0b lente",
        impact="perturbe",
        services=[Service.objects.get(slug="messagerie")],
        message="Collé depuis un traitement de texte :\x0b\x0c la messagerie est lente.",
    )
    snapshot.refresh()
    titles = [entry.title for entry in _entries(client).values()]
    assert "Messagerie lente" in titles
