"""Subscribers are told of what became public on the services they follow: one notification
each (« Incidents et maintenances »: the centre, and e-mail or push as their preferences
say), in French, leading to the status page; drafts and inactive accounts get nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from convergence.accounts.models import AccountState
from convergence.notifications.models import Notification
from convergence.portal.models import Service
from convergence.status import actions, notify
from convergence.status.models import Impact, Stage, Subscription

pytestmark = pytest.mark.django_db


def told() -> list[Notification]:
    """The notifications sent, oldest first; each test starts from none."""
    return list(Notification.objects.order_by("created_at", "pk").select_related("recipient"))


def forget() -> None:
    Notification.objects.all().delete()


@pytest.fixture
def messagerie(demo: None) -> Service:
    return Service.objects.get(slug="messagerie")


@pytest.fixture
def subscribers(messagerie, teacher, cpe, head_of_school):
    # (Not a parent: parents keep their own address and do not see the Messagerie tile.)
    for person in (teacher, cpe, head_of_school):
        Subscription.objects.create(user=person, service=messagerie)
    # Philippe's account is suspended: he follows the service but is told nothing.
    head_of_school.state = AccountState.SUSPENDED
    head_of_school.save(update_fields=["state"])
    return [teacher, cpe]


def open_incident(service: Service, *, publish: bool = True):
    return actions.open_incident(
        acting_user=None,
        title="Messagerie indisponible",
        impact=Impact.DOWN,
        services=[service],
        message="La messagerie ne répond plus. Les équipes techniques sont prévenues.",
        publish=publish,
    )


def test_each_active_subscriber_gets_one_message_when_an_incident_is_published(
    messagerie, subscribers, head_of_school
):
    incident = open_incident(messagerie)
    forget()
    assert notify.send("incident", incident.pk) == 2
    messages = told()
    assert sorted(message.recipient_id for message in messages) == sorted(
        person.pk for person in subscribers
    )
    assert head_of_school.pk not in [message.recipient_id for message in messages]
    message = messages[0]
    assert message.category == "incidents"
    assert message.title == "Incident : Messagerie indisponible"
    assert "La messagerie ne répond plus." in message.body
    assert "Messagerie" in message.body and "Indisponible" in message.body
    assert message.url == f"/statut/incidents/{incident.pk}/"
    assert "<" not in message.body  # plain text
    # The same update told again (a task run twice) adds nothing.
    assert notify.send("incident", incident.pk) == 0


def test_resolution_is_told_too(messagerie, subscribers):
    incident = open_incident(messagerie)
    actions.post_update(
        acting_user=None, incident=incident, stage=Stage.RESOLVED, message="Service rétabli."
    )
    forget()
    assert notify.send("incident", incident.pk) == 2
    assert told()[0].title == "Incident résolu : Messagerie indisponible"
    assert "Service rétabli." in told()[0].body


def test_nobody_is_told_of_a_draft(messagerie, subscribers):
    incident = open_incident(messagerie, publish=False)
    forget()
    assert notify.send("incident", incident.pk) == 0
    assert told() == []


def test_nobody_but_the_subscribers_of_the_service_is_told(messagerie, subscribers, pupil):
    ent = Service.objects.get(slug="ent")
    Subscription.objects.create(user=pupil, service=ent)
    incident = open_incident(messagerie)
    forget()
    notify.send("incident", incident.pk)
    assert pupil.pk not in [message.recipient_id for message in told()]


def test_a_maintenance_window_and_its_cancellation_are_told(messagerie, subscribers, dsi):
    starts_at = timezone.now() + dt.timedelta(days=3)
    window = actions.schedule_maintenance(
        acting_user=dsi,
        title="Mise à jour de la messagerie",
        message="Le serveur est mis à jour ; les messages attendront.",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        services=[messagerie],
        despite_busy_periods=True,
    )
    forget()
    assert notify.send("maintenance", window.pk) == 2
    message = told()[0]
    assert message.title == "Maintenance programmée : Mise à jour de la messagerie"
    assert "Le serveur est mis à jour ; les messages attendront." in message.body
    assert timezone.localtime(starts_at).strftime("%H") in message.body
    assert message.url == "/statut/"
    actions.cancel_maintenance(acting_user=dsi, window=window)
    forget()
    assert notify.send("maintenance", window.pk) == 2
    assert told()[0].title == "Maintenance annulée : Mise à jour de la messagerie"


def test_a_subscriber_who_no_longer_sees_the_service_is_not_told(demo, pupil):
    """Léa followed Arena when she could see it (a role since ended): no more news of it."""
    arena = Service.objects.get(slug="arena")
    Subscription.objects.create(user=pupil, service=arena)
    incident = open_incident(arena)
    forget()
    assert notify.send("incident", incident.pk) == 0
    assert told() == []


def test_a_draft_opened_by_a_probe_is_told_to_the_dsi_only(messagerie, subscribers, dsi):
    draft = actions.open_incident(
        acting_user=None,
        title="Messagerie indisponible",
        impact=Impact.DOWN,
        services=[messagerie],
        message="La messagerie ne répond plus depuis 8 h 02.",
        publish=False,
        automatic=True,
    )
    forget()
    assert notify.send("draft", draft.pk) == 1
    (message,) = told()
    assert message.recipient == dsi
    assert message.title == "À confirmer : Messagerie indisponible"
    assert message.url == f"/gestion/statut/incidents/{draft.pk}/"
    # Once published it is no draft: the DSI is not asked again.
    actions.publish_draft(
        acting_user=dsi,
        incident=draft,
        title="Messagerie indisponible",
        impact=Impact.DOWN,
        message="La messagerie ne répond plus.",
    )
    forget()
    assert notify.send("draft", draft.pk) == 0
