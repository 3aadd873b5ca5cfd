"""The public status page, a service's page and an incident's page: states in words, incidents
and maintenance windows from the snapshot only, drafts never shown, subscriptions."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import formats, timezone

from convergence.audit.models import AuditEvent
from convergence.portal.models import Service
from convergence.status import actions, snapshot
from convergence.status.models import HourlyStat, Impact, Probe, ProbeState, Stage, Subscription
from tests.helpers import text_of


def make_status(dsi: Any) -> dict[str, Any]:
    """ENT perturbed by a published incident, Arena up with a maintenance to come, a resolved
    incident that lasted 2 h 05, a draft nobody may see, and some history; then the snapshot."""
    now = timezone.now()
    ent = Service.objects.get(slug="ent")
    arena = Service.objects.get(slug="arena")
    messagerie = Service.objects.get(slug="messagerie")
    Probe.objects.update(state=ProbeState.UP, state_since=now - dt.timedelta(hours=5))
    probe = Probe.objects.get(service=ent, name="web")
    Probe.objects.get_or_create(
        service=messagerie, name="imap", defaults={"kind": "imap", "target": "mail.example:993"}
    )
    Probe.objects.filter(service=messagerie).update(state=ProbeState.UP)
    open_one = actions.open_incident(
        acting_user=dsi,
        title="ENT : lenteurs à la connexion",
        impact=Impact.DEGRADED,
        services=[ent],
        message="Les connexions prennent plusieurs minutes.",
        now=now - dt.timedelta(minutes=30),
    )
    actions.post_update(
        acting_user=dsi,
        incident=open_one,
        stage=Stage.IDENTIFIED,
        message="Un serveur d'authentification est saturé <b>ici</b>.",
        now=now - dt.timedelta(minutes=10),
    )
    resolved = actions.open_incident(
        acting_user=dsi,
        title="Messagerie coupée",
        impact=Impact.DOWN,
        services=[messagerie],
        message="La messagerie ne répond plus.",
        now=now - dt.timedelta(hours=3),
    )
    actions.post_update(
        acting_user=dsi,
        incident=resolved,
        stage=Stage.RESOLVED,
        message="La messagerie fonctionne de nouveau.",
        now=now - dt.timedelta(hours=3) + dt.timedelta(hours=2, minutes=5),
    )
    resolved.refresh_from_db()
    resolved.postmortem = "Un disque plein ; une alerte est ajoutée."
    resolved.save(update_fields=["postmortem"])
    draft = actions.open_incident(
        acting_user=None,
        title="Brouillon secret de la sonde",
        impact=Impact.DOWN,
        services=[arena],
        message="Message du brouillon jamais publié.",
        publish=False,
        automatic=True,
    )
    window = actions.schedule_maintenance(
        acting_user=dsi,
        title="Mise à niveau d'Arena",
        message="Arena sera fermé pendant la mise à niveau.",
        starts_at=now + dt.timedelta(days=2),
        ends_at=now + dt.timedelta(days=2, hours=2),
        services=[arena],
        despite_busy_periods=True,
    )
    hour = now.replace(minute=0, second=0, microsecond=0)
    for offset in range(1, 5):
        HourlyStat.objects.create(
            probe=probe,
            hour=hour - dt.timedelta(hours=offset),
            checks=100,
            failures=1 if offset == 2 else 0,
            total_ms=100 * (120 + 50 * offset) if offset != 2 else 99 * 340,
            max_ms=400,
        )
    HourlyStat.objects.create(
        probe=probe, hour=hour - dt.timedelta(days=3), checks=100, failures=10, total_ms=9000
    )
    current = snapshot.refresh(with_history=True)
    return {
        "open": open_one,
        "resolved": resolved,
        "draft": draft,
        "window": window,
        "snapshot": current,
    }


@pytest.fixture
def status(demo: None, dsi: Any) -> dict[str, Any]:
    return make_status(dsi)


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_without_snapshot_the_page_says_so(client, db):
    response = client.get("/statut/")
    assert response.status_code == 200
    assert "Les informations d'état ne sont pas encore disponibles" in text_of(response)


def test_the_page_lists_each_state_in_words_with_an_icon(client, status):
    response = client.get("/statut/")
    assert response.status_code == 200
    page = _squeeze(text_of(response))
    row = page[page.index('href="/statut/services/ent/"') :][:600]
    assert "Perturbé" in row
    assert "fr-badge--warning" in row
    assert 'class="fr-icon-warning-line fr-icon--sm" aria-hidden="true"' in row
    arena = page[page.index('href="/statut/services/arena/"') :][:600]
    assert "Opérationnel" in arena
    assert "Dernière mise à jour :" in page
    assert 'href="/statut/flux.atom"' in page
    assert 'href="/statut/api.json"' in page
    assert 'href="/aide/"' in page


def test_the_page_shows_the_open_incident_and_its_latest_update(client, status):
    page = _squeeze(text_of(client.get("/statut/")))
    active = page[page.index("Incidents en cours") : page.index("État actuel")]
    assert "ENT : lenteurs à la connexion" in active
    assert "Cause identifiée" in active
    # The latest update, escaped: the DSI's text is never markup.
    assert "saturé &lt;b&gt;ici&lt;/b&gt;" in response_html(client, "/statut/")
    assert "Les connexions prennent plusieurs minutes" not in active
    assert f'href="/statut/incidents/{status["open"].pk}/"' in active


def response_html(client: Any, path: str) -> str:
    return client.get(path).content.decode()


def test_the_page_announces_the_maintenance_in_french(client, status):
    page = _squeeze(text_of(client.get("/statut/")))
    section = page[page.index('id="maintenances"') :]
    assert "Mise à niveau d'Arena" in section
    assert "Prévue" in section
    starts = timezone.localtime(status["window"].starts_at)
    month = formats.date_format(starts, "F")
    assert f"Du {starts.day} {month} {starts.year} à {starts:%H}h{starts:%M}" in section


def test_the_page_draws_90_days_with_a_text_alternative(client, status):
    content = response_html(client, "/statut/")
    assert 'aria-labelledby="disponibilite-ent-resume"' in content
    assert 'id="disponibilite-ent-resume"' in content
    # Every service on one page: the bars drawn compactly, one path per tone, summarised.
    assert "<rect" not in content
    assert 'data-tone="bad"' in content
    page = _squeeze(text_of(client.get("/statut/")))
    assert "sous 100 % : 2 ; le plus bas : 90" in page
    assert "Le détail jour par jour de ENT" in page
    # The service's own page: one bar per day, each with its title, and the table.
    content = response_html(client, "/statut/services/ent/")
    assert content.count("<rect") >= 90
    page = _squeeze(text_of(client.get("/statut/services/ent/")))
    # The day three days ago lost 10 % of its checks: listed in the table.
    assert "sous 100 % pour ENT" in page
    assert "90 %" in page


def test_no_draft_appears_anywhere_public(client, status):
    draft = status["draft"]
    for path in ("/statut/", "/statut/api.json", "/statut/flux.atom", "/statut/services/arena/"):
        content = text_of(client.get(path))
        assert "Brouillon secret" not in content, path
        assert "jamais publié" not in content, path
    assert client.get(f"/statut/incidents/{draft.pk}/").status_code == 404


def test_the_page_reads_no_database_for_a_visitor(client, status):
    client.get("/statut/")  # the shell's académie now in the cache
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/statut/").status_code == 200
        assert client.get("/statut/services/ent/").status_code == 200
        assert client.get(f"/statut/incidents/{status['open'].pk}/").status_code == 200
    assert [query["sql"] for query in queries.captured_queries] == []


def test_a_fresh_visitor_gets_the_page_from_the_cache_until_the_snapshot_changes(client, status):
    first = response_html(client, "/statut/")
    assert "Mise à niveau d'Arena" in text_of(client.get("/statut/"))
    Probe.objects.filter(service__slug="arena").update(state=ProbeState.DOWN)
    snapshot.refresh(now=timezone.now() + dt.timedelta(seconds=1))
    second = response_html(client, "/statut/")
    assert second != first
    arena = second[second.index('href="/statut/services/arena/"') :][:600]
    assert "Indisponible" in arena


def test_the_service_page(client, status):
    response = client.get("/statut/services/ent/")
    assert response.status_code == 200
    page = _squeeze(text_of(response))
    assert "<h1>ENT Éclat-BFC</h1>" in page or "ENT" in page
    assert "Perturbé" in page
    # 399 checks answered out of 400 in 24 hours: 99,75 %.
    assert "99,75 %" in page
    assert "Temps de réponse moyen sur 24 h : de" in page
    assert "<polyline" in page
    assert "ENT : lenteurs à la connexion" in page
    # Not the other services' incidents.
    assert "Messagerie coupée" not in page
    # Anonymous: an invitation to sign in, no button.
    assert "Connectez-vous" in page
    assert 'name="action"' not in page


def test_unknown_service_and_incident_are_404(client, status):
    assert client.get("/statut/services/inexistant/").status_code == 404
    assert client.get("/statut/incidents/999999/").status_code == 404


def test_the_incident_page_tells_its_story(client, status):
    resolved = status["resolved"]
    response = client.get(f"/statut/incidents/{resolved.pk}/")
    assert response.status_code == 200
    page = _squeeze(text_of(response))
    assert "<h1>Messagerie coupée</h1>" in page
    assert "Indisponible" in page
    assert "Résolu en 2 h 05" in page
    assert "Enquête en cours" in page
    assert "La messagerie fonctionne de nouveau." in page
    assert "Un disque plein ; une alerte est ajoutée." in page
    assert "Retour d'expérience" in page


def test_the_signed_in_person_sees_the_subscribe_button(client, teacher, status):
    client.force_login(teacher)
    page = text_of(client.get("/statut/services/ent/"))
    assert 'value="subscribe"' in page
    assert "Être prévenu par courriel" in page
    Subscription.objects.create(user=teacher, service=Service.objects.get(slug="ent"))
    page = text_of(client.get("/statut/services/ent/"))
    assert 'value="unsubscribe"' in page


def test_subscription_requires_sign_in(client, status):
    response = client.post("/abonnements/statut/ent/", {"action": "subscribe"})
    assert response.status_code == 302
    assert "/connexion/" in response["Location"]
    assert not Subscription.objects.exists()


def test_subscription_refuses_a_service_the_person_cannot_see(client, pupil, status):
    client.force_login(pupil)
    response = client.post("/abonnements/statut/arena/", {"action": "subscribe"})
    assert response.status_code == 404
    assert not Subscription.objects.filter(user=pupil).exists()


def test_subscription_is_post_only(client, teacher, status):
    client.force_login(teacher)
    assert client.get("/abonnements/statut/ent/").status_code == 405


def test_subscribe_then_unsubscribe_with_audit(client, teacher, status):
    client.force_login(teacher)
    response = client.post("/abonnements/statut/ent/", {"action": "subscribe"})
    assert response.status_code == 302
    assert response["Location"] == "/statut/services/ent/"
    assert Subscription.objects.filter(user=teacher, service__slug="ent").exists()
    assert AuditEvent.objects.filter(event_type="status.subscribed", actor=teacher).exists()
    page = text_of(client.get(response["Location"]))
    assert "Vous serez prévenu par courriel des incidents et maintenances de" in page

    response = client.post("/abonnements/statut/ent/", {"action": "unsubscribe"})
    assert response.status_code == 302
    assert not Subscription.objects.filter(user=teacher).exists()
    assert AuditEvent.objects.filter(event_type="status.unsubscribed", actor=teacher).exists()
    assert "Vous ne serez plus prévenu" in text_of(client.get("/statut/services/ent/"))


def test_subscription_with_an_unknown_action_is_refused(client, teacher, status):
    client.force_login(teacher)
    response = client.post("/abonnements/statut/ent/", {"action": "tout"})
    assert response.status_code == 400
    assert not Subscription.objects.exists()


def test_query_strings_do_not_make_new_copies_of_the_page(client, status, monkeypatch):
    """No status page reads its query string: ``?a=1``, ``?a=2``… are one cached page, so a
    visitor cannot fill the cache (and Redis) with copies."""
    from convergence.core import fragments

    drawn: list[str] = []
    original = fragments.cached

    def counting(key, render, timeout=fragments.FRAGMENT_SECONDS):
        def counted():
            drawn.append(key)
            return render()

        return original(key, counted, timeout)

    monkeypatch.setattr(fragments, "cached", counting)
    for number in range(5):
        assert client.get(f"/statut/?a={number}").status_code == 200
    pages = [key for key in drawn if key.startswith("fragment:status-page:")]
    assert len(pages) == 1


def test_a_person_who_no_longer_sees_a_service_can_still_leave_it(client, pupil, status):
    arena = Service.objects.get(slug="arena")
    Subscription.objects.create(user=pupil, service=arena)
    client.force_login(pupil)
    response = client.post("/abonnements/statut/arena/", {"action": "unsubscribe"})
    assert response.status_code == 302
    assert not Subscription.objects.filter(user=pupil, service=arena).exists()


def test_old_information_is_said_to_be_old(client, status):
    """The worker stopped measuring: the last states are shown with a warning, never as if
    they were current."""
    fresh = text_of(client.get("/statut/"))
    assert "ne sont peut-être plus à jour" not in fresh
    snapshot.publish(snapshot.build(now=timezone.now() - dt.timedelta(minutes=10)))
    snapshot.forget()
    for path in ("/statut/", "/statut/services/ent/"):
        page = _squeeze(text_of(client.get(path)))
        assert "Ces informations ne sont peut-être plus à jour" in page
        assert "la surveillance est peut-être interrompue" in page
