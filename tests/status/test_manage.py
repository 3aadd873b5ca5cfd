"""The DSI's status pages: declaring and following incidents, confirming the probes'
drafts, planning maintenance windows (twice over a busy period) and cancelling them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from convergence.audit.models import AuditEvent
from convergence.portal.models import Service
from convergence.status import actions, snapshot
from convergence.status.models import (
    Impact,
    Incident,
    Maintenance,
    PeakPeriod,
    Probe,
    ProbeState,
    Stage,
)
from tests.helpers import client_of, text_of

pytestmark = pytest.mark.django_db


def service(slug: str = "messagerie") -> Service:
    return Service.objects.published().get(slug=slug)


def draft(**overrides: Any) -> Incident:
    """A draft as the worker opens one when a probe goes down."""
    values: dict[str, Any] = {
        "acting_user": None,
        "title": "Messagerie indisponible",
        "impact": Impact.DOWN,
        "services": [service()],
        "message": "Le service ne répond plus normalement depuis 08 h 00.",
        "publish": False,
        "automatic": True,
    }
    values.update(overrides)
    return actions.open_incident(**values)


def next_weekday(weekday: int, *, at: dt.time, weeks_ahead: int = 1) -> dt.datetime:
    """A local moment on ``weekday`` at least a week ahead (Europe/Paris)."""
    today = timezone.localdate() + dt.timedelta(days=7 * weeks_ahead)
    day = today + dt.timedelta(days=(weekday - today.weekday()) % 7)
    return dt.datetime.combine(day, at, tzinfo=timezone.get_default_timezone())


def local_input(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def maintenance_post(starts_at: dt.datetime, ends_at: dt.datetime, **extra: str) -> dict[str, Any]:
    return {
        "title": "Mise à jour de la messagerie",
        "message": "Le serveur de messagerie est mis à jour.",
        "starts_at": local_input(starts_at),
        "ends_at": local_input(ends_at),
        "services": [str(service().pk)],
        **extra,
    }


def planned() -> Any:
    """The windows these tests plan (the demo has one of its own)."""
    return Maintenance.objects.filter(title="Mise à jour de la messagerie")


@pytest.fixture
def monday_peak(demo: None) -> PeakPeriod:
    PeakPeriod.objects.all().delete()
    return PeakPeriod.objects.create(
        name="Lundi matin", weekday=0, start_time=dt.time(7, 30), end_time=dt.time(9, 30)
    )


# --- Who may ----------------------------------------------------------------------------------


def management_urls() -> list[tuple[str, str]]:
    window = Maintenance.objects.create(
        title="Fenêtre",
        message="…",
        starts_at=timezone.now() + dt.timedelta(days=2),
        ends_at=timezone.now() + dt.timedelta(days=2, hours=1),
    )
    incident = draft()
    return [
        ("get", reverse("status:manage")),
        ("get", reverse("status:new_incident")),
        ("post", reverse("status:new_incident")),
        ("get", reverse("status:manage_incident", args=[incident.pk])),
        ("post", reverse("status:manage_incident", args=[incident.pk])),
        ("get", reverse("status:new_maintenance")),
        ("post", reverse("status:new_maintenance")),
        ("post", reverse("status:cancel_maintenance", args=[window.pk])),
    ]


def test_a_teacher_is_refused_every_management_page(teacher):
    client = client_of(teacher)
    for method, url in management_urls():
        assert getattr(client, method)(url).status_code == 403, url
    assert not Maintenance.objects.filter(cancelled_at__isnull=False).exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(demo):
    client = Client()
    for method, url in management_urls():
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login")), url


def test_the_overview_lists_drafts_incidents_windows_and_probes(client, dsi):
    draft()
    probe = Probe.objects.select_related("service").first()
    assert probe is not None
    Probe.objects.filter(pk=probe.pk).update(
        state=ProbeState.DOWN,
        last_error="connexion refusée",
        certificate_expires_at=timezone.now() + dt.timedelta(days=3),
    )
    client.force_login(dsi)
    page = text_of(client.get(reverse("status:manage")))
    assert "Brouillons ouverts par les sondes" in page
    assert "Messagerie indisponible" in page
    assert "Déclarer un incident" in page and "Programmer une maintenance" in page
    assert "ne répond pas" in page  # the probe's state, as ProbeState says it
    assert "connexion refusée" in page
    assert "expire bientôt" in page
    assert reverse("admin:status_probe_changelist") in page


# --- Incidents --------------------------------------------------------------------------------


def test_the_dsi_declares_an_incident(client, dsi):
    client.force_login(dsi)
    assert client.get(reverse("status:new_incident")).status_code == 200
    response = client.post(
        reverse("status:new_incident"),
        {
            "title": "Messagerie : envoi impossible",
            "impact": Impact.DEGRADED,
            "services": [str(service().pk)],
            "stage": Stage.INVESTIGATING,
            "message": "Les messages partent avec retard.",
        },
    )
    incident = Incident.objects.get(title="Messagerie : envoi impossible")
    assert response.status_code == 302
    assert response["Location"] == reverse("status:manage_incident", args=[incident.pk])
    assert incident.is_published and incident.created_by == dsi
    assert list(incident.services.all()) == [service()]
    assert AuditEvent.objects.filter(event_type="status.incident_opened", actor=dsi).exists()
    page = text_of(client.get(response["Location"]))
    assert "Les messages partent avec retard." in page
    assert "Publier une mise à jour" in page


def test_an_incident_needs_a_service_and_does_not_open_resolved(client, dsi):
    client.force_login(dsi)
    response = client.post(
        reverse("status:new_incident"),
        {"title": "Panne", "impact": Impact.DOWN, "stage": Stage.RESOLVED, "message": "…"},
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "Choisissez au moins un service concerné." in page
    assert "Sélectionnez un choix valide" in page  # « Résolu » is not offered
    assert not Incident.objects.filter(title="Panne").exists()


def test_a_draft_confirmed_in_the_dsi_s_words_is_published(client, dsi):
    incident = draft()
    assert incident.pk not in [i["id"] for i in snapshot.build()["incidents"]]
    client.force_login(dsi)
    url = reverse("status:manage_incident", args=[incident.pk])
    page = text_of(client.get(url))
    assert "Confirmer et publier" in page and "Clore sans publier (fausse alerte)" in page
    assert "Le service ne répond plus normalement depuis 08 h 00." in page  # prefilled
    response = client.post(
        url,
        {
            "intent": "publish",
            "title": "Messagerie : connexion impossible",
            "impact": Impact.DOWN,
            "message": "La messagerie ne répond plus ; nous cherchons la cause.",
        },
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.is_published and incident.title == "Messagerie : connexion impossible"
    published = {i["id"]: i for i in snapshot.build()["incidents"]}
    assert published[incident.pk]["updates"][0]["message"] == (
        "La messagerie ne répond plus ; nous cherchons la cause."
    )
    assert AuditEvent.objects.filter(event_type="status.incident_published").exists()


def test_a_false_alarm_is_closed_without_being_published(client, dsi):
    incident = draft()
    client.force_login(dsi)
    response = client.post(
        reverse("status:manage_incident", args=[incident.pk]), {"intent": "dismiss"}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.resolved_at is not None and not incident.is_published
    assert incident.pk not in [i["id"] for i in snapshot.build()["incidents"]]


def test_an_update_marked_resolved_closes_the_incident(client, dsi):
    incident = draft(publish=True, automatic=False)
    client.force_login(dsi)
    url = reverse("status:manage_incident", args=[incident.pk])
    response = client.post(
        url, {"intent": "update", "stage": Stage.RESOLVED, "message": "Le service est rétabli."}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.resolved_at is not None
    assert incident.updates.first().stage == Stage.RESOLVED
    page = text_of(client.get(url))
    assert "Temps de résolution" in page
    assert "Retour d'expérience" in page
    client.post(url, {"intent": "postmortem", "postmortem": "Disque plein sur le serveur."})
    incident.refresh_from_db()
    assert incident.postmortem == "Disque plein sur le serveur."


def test_a_resolved_incident_takes_no_more_update(client, dsi):
    incident = draft(publish=True, automatic=False)
    actions.post_update(
        acting_user=dsi, incident=incident, stage=Stage.RESOLVED, message="Rétabli."
    )
    client.force_login(dsi)
    response = client.post(
        reverse("status:manage_incident", args=[incident.pk]),
        {"intent": "update", "stage": Stage.MONITORING, "message": "Encore une."},
    )
    assert response.status_code == 200
    assert "Cet incident est résolu : il ne reçoit plus de mise à jour." in text_of(response)
    assert incident.updates.count() == 2


def test_an_update_needs_a_message(client, dsi):
    incident = draft(publish=True, automatic=False)
    client.force_login(dsi)
    response = client.post(
        reverse("status:manage_incident", args=[incident.pk]),
        {"intent": "update", "stage": Stage.MONITORING, "message": ""},
    )
    assert response.status_code == 200
    assert incident.updates.count() == 1


def test_an_unknown_intent_is_a_bad_request(client, dsi):
    incident = draft()
    client.force_login(dsi)
    response = client.post(reverse("status:manage_incident", args=[incident.pk]), {"intent": "x"})
    assert response.status_code == 400


# --- Maintenance windows -----------------------------------------------------------------------


def test_a_window_over_a_busy_period_is_confirmed_twice(client, dsi, monday_peak):
    client.force_login(dsi)
    starts_at = next_weekday(0, at=dt.time(8, 0))
    ends_at = starts_at + dt.timedelta(hours=1)
    url = reverse("status:new_maintenance")
    response = client.post(url, maintenance_post(starts_at, ends_at))
    assert response.status_code == 200
    page = text_of(response)
    assert "Cette maintenance tombe pendant une période chargée" in page
    assert "Lundi matin" in page
    assert "Je maintiens cette date malgré la période chargée" in page
    assert not planned().exists()

    response = client.post(url, maintenance_post(starts_at, ends_at, confirm_peak="on"))
    assert response.status_code == 302
    window = planned().get()
    assert window.starts_at == starts_at and window.ends_at == ends_at
    assert len(window.peak_warnings) == 1 and "Lundi matin" in window.peak_warnings[0]
    assert list(window.services.all()) == [service()]
    assert AuditEvent.objects.filter(event_type="status.maintenance_scheduled").exists()


def test_the_busy_period_rule_is_the_action_s_whoever_calls_it(dsi, monday_peak):
    """Not only the form: the action itself refuses an unconfirmed window in a busy period."""
    starts_at = next_weekday(0, at=dt.time(8, 0))
    with pytest.raises(actions.BusyPeriods) as refused:
        actions.schedule_maintenance(
            acting_user=dsi,
            title="Mise à jour de la messagerie",
            message="La messagerie est arrêtée une heure.",
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=1),
            services=[service()],
        )
    assert "Lundi matin" in refused.value.periods[0]
    assert not planned().exists()


def test_a_window_clear_of_busy_periods_is_scheduled_at_once(client, dsi, monday_peak):
    client.force_login(dsi)
    starts_at = next_weekday(2, at=dt.time(22, 0))
    response = client.post(
        reverse("status:new_maintenance"),
        maintenance_post(starts_at, starts_at + dt.timedelta(hours=2)),
    )
    assert response.status_code == 302
    window = planned().get()
    assert window.peak_warnings == []
    assert "Mise à jour de la messagerie" in text_of(client.get(response["Location"]))


def test_a_window_ends_after_it_starts_and_does_not_start_in_the_past(client, dsi, monday_peak):
    client.force_login(dsi)
    url = reverse("status:new_maintenance")
    starts_at = next_weekday(2, at=dt.time(22, 0))
    response = client.post(url, maintenance_post(starts_at, starts_at - dt.timedelta(hours=1)))
    assert response.status_code == 200
    assert "La fin de la maintenance doit suivre son début." in text_of(response)
    past = timezone.now() - dt.timedelta(days=1)
    response = client.post(url, maintenance_post(past, past + dt.timedelta(hours=1)))
    assert response.status_code == 200
    assert "Le début de la maintenance est déjà passé." in text_of(response)
    assert not planned().exists()


def test_the_dsi_cancels_a_window(client, dsi):
    starts_at = timezone.now() + dt.timedelta(days=3)
    window = actions.schedule_maintenance(
        acting_user=dsi,
        title="Mise à jour",
        message="…",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=1),
        services=[service()],
        despite_busy_periods=True,
    )
    client.force_login(dsi)
    page = text_of(client.get(reverse("status:manage")))
    assert reverse("status:cancel_maintenance", args=[window.pk]) in page
    url = reverse("status:cancel_maintenance", args=[window.pk])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302
    window.refresh_from_db()
    assert window.cancelled_at is not None
    assert AuditEvent.objects.filter(event_type="status.maintenance_cancelled").exists()
    again = client.post(url, follow=True)
    assert "Cette maintenance est déjà annulée." in text_of(again)
