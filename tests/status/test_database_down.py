"""The public status pages answer from the snapshot when the database is unreachable: in the
portal's shell when it can be drawn, else in the standalone page; and they never read the
database themselves (a test without database access at all)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import feedparser
import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.test import Client

from convergence.core import fragments
from convergence.core.models import ACADEMIE_CACHE_KEY, Academie
from convergence.status import snapshot
from tests.helpers import text_of
from tests.status.test_public_pages import make_status


def _unreachable(*args: Any, **kwargs: Any) -> None:
    raise OperationalError("connection to server failed: Connection refused")


@pytest.fixture
def database_down(demo: None, dsi: Any) -> Iterator[dict[str, Any]]:
    """The snapshot of ``make_status``, then every database access refused and the académie
    no longer in the cache (so the shell must read the database, and fails). The database
    comes back before the test's transaction is rolled back."""
    made = make_status(dsi)
    snapshot.forget()
    cache.clear()
    fragments.recent.clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "django.db.backends.base.base.BaseDatabaseWrapper.ensure_connection", _unreachable
        )
        yield made


def test_the_database_is_really_down(database_down):
    with pytest.raises(OperationalError):
        Academie.current()


def test_the_status_page_answers_from_the_snapshot(database_down):
    response = Client().get("/statut/")
    assert response.status_code == 200
    page = text_of(response)
    assert '<html lang="fr"' in page
    assert "dsfr.main.min.css" in page
    assert "Le portail fonctionne en mode réduit" in page
    assert "ENT : lenteurs à la connexion" in page
    assert "Perturbé" in page
    assert "Opérationnel" in page
    assert "Mise à niveau d'Arena" in page
    assert "Dernière mise à jour :" in page
    assert "Brouillon secret" not in page


def test_the_service_and_incident_pages_answer(database_down):
    client = Client()
    response = client.get("/statut/services/ent/")
    assert response.status_code == 200
    assert "Perturbé" in text_of(response)
    assert "99,75\N{NO-BREAK SPACE}%" in text_of(response)
    response = client.get(f"/statut/incidents/{database_down['resolved'].pk}/")
    assert response.status_code == 200
    assert "Résolu en 2 h 05" in text_of(response)
    assert client.get("/statut/services/inexistant/").status_code == 404


def test_the_json_document_and_the_feed_answer(database_down, settings):
    client = Client()
    response = client.get("/statut/api.json")
    assert response.status_code == 200
    states = {
        service["slug"]: service["state"] for service in json.loads(response.content)["services"]
    }
    assert states["ent"] == "perturbe"
    assert states["arena"] == "operationnel"
    response = client.get("/statut/flux.atom")
    assert response.status_code == 200
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo
    titles = [entry.title for entry in parsed.entries]
    assert "ENT : lenteurs à la connexion" in titles
    # The links name the settings' official host when the académie cannot be read.
    assert all(
        entry.link.startswith(f"http://{settings.OFFICIAL_HOST}/") for entry in parsed.entries
    )


def test_a_signed_in_person_still_gets_the_page(database_down, client):
    """A session cookie: the account cannot be read either; the page still answers, without
    the subscription button."""
    # Signed in before the outage would have been the case; the cookie is all that is left.
    client.cookies["sessionid"] = "une-session-illisible"
    response = client.get("/statut/services/ent/")
    assert response.status_code == 200
    assert 'value="subscribe"' not in text_of(response)
    assert "Perturbé" in text_of(response)


def _document() -> dict[str, Any]:
    now = dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)
    return {
        "generated_at": now.isoformat(),
        "history_at": now.isoformat(),
        "states_version": "abc",
        "services": [
            {
                "slug": "ent",
                "name": "ENT <Éclat>",
                "monitored": True,
                "state": "indisponible",
                "since": (now - dt.timedelta(minutes=20)).isoformat(),
                "checked_at": now.isoformat(),
                "uptime": {"24h": 98.5, "7d": 99.8, "90d": 99.95},
                "response_ms": [
                    [(now - dt.timedelta(hours=23 - h)).isoformat(), 120 + 10 * h]
                    for h in range(24)
                ],
                "days": [
                    [(now.date() - dt.timedelta(days=d)).isoformat(), 100.0 if d else 98.5]
                    for d in range(90)
                ],
            }
        ],
        "incidents": [
            {
                "id": 41,
                "title": "ENT en panne",
                "impact": "indisponible",
                "stage": "enquete",
                "opened_at": (now - dt.timedelta(minutes=20)).isoformat(),
                "resolved_at": None,
                "services": ["ent"],
                "postmortem": "",
                "updates": [
                    {
                        "stage": "enquete",
                        "message": "Nous cherchons la cause.",
                        "posted_at": (now - dt.timedelta(minutes=20)).isoformat(),
                    }
                ],
            }
        ],
        "maintenances": [],
    }


def test_pages_without_any_database_access(client):
    """No ``db`` fixture: any query would fail the test. The shell's académie is in the cache,
    as it is between two reads in production; everything else comes from the snapshot."""
    snapshot.publish(_document())
    cache.set(
        ACADEMIE_CACHE_KEY,
        Academie(
            name="Académie de test", official_host="statut.example", mail_domain="example.org"
        ),
    )
    response = client.get("/statut/")
    assert response.status_code == 200
    page = text_of(response)
    assert "Académie de test" in page  # the portal's own shell
    assert "ENT &lt;Éclat&gt;" in response.content.decode()  # escaped
    assert "Indisponible" in page
    assert "ENT en panne" in page
    assert "Dernière mise à jour : 3 décembre 2026 à 10h30" in page
    service = text_of(client.get("/statut/services/ent/"))
    assert "99,95\N{NO-BREAK SPACE}%" in service
    assert "Temps de réponse moyen sur 24 h : de 120 à 350 ms." in service
    assert "3 décembre 2026 : 98,5\N{NO-BREAK SPACE}%" in service
    assert client.get("/statut/incidents/41/").status_code == 200
    document = json.loads(client.get("/statut/api.json").content)
    assert document["services"][0]["state"] == "indisponible"
    feed = feedparser.parse(client.get("/statut/flux.atom").content)
    assert [entry.link for entry in feed.entries] == ["http://statut.example/statut/incidents/41/"]
