"""Subscribers are told by e-mail of what became public on the services they follow: one
message each, in French, with the link to the status page; drafts and inactive accounts
get nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from convergence.accounts.models import AccountState
from convergence.portal.models import Service
from convergence.status import actions, notify
from convergence.status.models import Impact, Stage, Subscription

pytestmark = pytest.mark.django_db


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
    mail.outbox.clear()
    assert notify.send("incident", incident.pk) == 2
    assert sorted(address for message in mail.outbox for address in message.to) == sorted(
        person.email for person in subscribers
    )
    assert all(len(message.to) == 1 for message in mail.outbox)
    assert head_of_school.email not in [message.to[0] for message in mail.outbox]
    message = mail.outbox[0]
    assert message.subject == "Incident : Messagerie indisponible"
    assert "La messagerie ne répond plus." in message.body
    assert "Messagerie" in message.body and "Indisponible" in message.body
    assert f"/statut/incidents/{incident.pk}/" in message.body
    assert "<" not in message.body  # plain text


def test_resolution_is_told_too(messagerie, subscribers):
    incident = open_incident(messagerie)
    actions.post_update(
        acting_user=None, incident=incident, stage=Stage.RESOLVED, message="Service rétabli."
    )
    mail.outbox.clear()
    assert notify.send("incident", incident.pk) == 2
    assert mail.outbox[0].subject == "Incident résolu : Messagerie indisponible"
    assert "Service rétabli." in mail.outbox[0].body


def test_nobody_is_told_of_a_draft(messagerie, subscribers):
    incident = open_incident(messagerie, publish=False)
    mail.outbox.clear()
    assert notify.send("incident", incident.pk) == 0
    assert mail.outbox == []


def test_nobody_but_the_subscribers_of_the_service_is_told(messagerie, subscribers, pupil):
    ent = Service.objects.get(slug="ent")
    Subscription.objects.create(user=pupil, service=ent)
    incident = open_incident(messagerie)
    mail.outbox.clear()
    notify.send("incident", incident.pk)
    assert pupil.email not in [address for message in mail.outbox for address in message.to]


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
    mail.outbox.clear()
    assert notify.send("maintenance", window.pk) == 2
    message = mail.outbox[0]
    assert message.subject == "Maintenance programmée : Mise à jour de la messagerie"
    assert "Le serveur est mis à jour ; les messages attendront." in message.body
    assert timezone.localtime(starts_at).strftime("%H") in message.body
    assert "/statut/" in message.body
    actions.cancel_maintenance(acting_user=dsi, window=window)
    mail.outbox.clear()
    assert notify.send("maintenance", window.pk) == 2
    assert mail.outbox[0].subject == "Maintenance annulée : Mise à jour de la messagerie"


def test_a_subscriber_who_no_longer_sees_the_service_is_not_told(demo, pupil):
    """Léa followed Arena when she could see it (a role since ended): no more news of it."""
    arena = Service.objects.get(slug="arena")
    Subscription.objects.create(user=pupil, service=arena)
    incident = open_incident(arena)
    mail.outbox.clear()
    assert notify.send("incident", incident.pk) == 0
    assert mail.outbox == []


def test_a_draft_opened_by_a_probe_is_mailed_to_the_dsi_only(messagerie, subscribers, dsi):
    draft = actions.open_incident(
        acting_user=None,
        title="Messagerie indisponible",
        impact=Impact.DOWN,
        services=[messagerie],
        message="La messagerie ne répond plus depuis 8 h 02.",
        publish=False,
        automatic=True,
    )
    mail.outbox.clear()
    assert notify.send("draft", draft.pk) == 1
    (message,) = mail.outbox
    assert message.to == [dsi.email]
    assert message.subject == "À confirmer : Messagerie indisponible"
    assert f"/gestion/statut/incidents/{draft.pk}/" in message.body
    # Once published it is no draft: the DSI is not asked again.
    actions.publish_draft(
        acting_user=dsi,
        incident=draft,
        title="Messagerie indisponible",
        impact=Impact.DOWN,
        message="La messagerie ne répond plus.",
    )
    mail.outbox.clear()
    assert notify.send("draft", draft.pk) == 0
