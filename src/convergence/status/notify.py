"""Telling the subscribers of a service what happened to it: the one way out of this app.

Every public change (an incident published or updated, a maintenance window scheduled or
cancelled) calls ``tell_subscribers`` once its transaction commits; the sending itself runs in
the task worker, one message per subscriber, so a page never waits for the mail server.
It is a notification of the category « Incidents et maintenances » (``core.notify``), so each
person's preferences and quiet hours decide whether it also comes by e-mail or push.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django_tasks import task

from convergence.accounts.mailing import dsi_people
from convergence.accounts.models import AccountState, User
from convergence.core.links import absolute_url
from convergence.core.notify import Category, notify_template
from convergence.portal.models import Service
from convergence.status.models import Incident, Maintenance

logger = logging.getLogger(__name__)


def tell_subscribers(*, kind: str, object_id: int) -> None:
    """Queue the message about ``kind`` ``object_id``: an ``incident`` or a ``maintenance``
    to the subscribers of its services, a ``draft`` a probe opened to the DSI."""
    try:
        deliver.enqueue(kind, object_id)
    except Exception:
        # The queue is down: the page that caused it still answers; the change is public.
        logger.exception("Status: subscribers of %s %s could not be told", kind, object_id)


def _recipients(service_ids: list[int]) -> list[User]:
    """The subscribers who still see one of the services (a role ended: no more news)."""
    people = User.objects.filter(
        Q(status_subscriptions__service_id__in=service_ids), state=AccountState.ACTIVE
    ).distinct()
    return [
        person
        for person in people
        if Service.objects.visible_to(person).filter(pk__in=service_ids).exists()
    ]


@task()
def deliver(kind: str, object_id: int) -> int:
    """The task the worker runs (here rather than in ``tasks.py``: the actions queue it, and
    ``tasks.py`` imports the probing that calls the actions)."""
    return send(kind, object_id)


def send(kind: str, object_id: int) -> int:
    """Notify every subscriber of the services concerned; how many people were told."""
    context: dict[str, Any]
    if kind == "incident":
        incident = Incident.objects.filter(pk=object_id, is_published=True).first()
        if incident is None:
            return 0
        services = list(incident.services.all())
        latest = incident.updates.first()
        context = {
            "incident": incident,
            "update": latest,
            "services": services,
            "link": absolute_url(reverse("status:incident", args=[incident.pk])),
        }
        template = "status/mail/incident"
        url = reverse("status:incident", args=[incident.pk])
        key = f"status-incident-{incident.pk}-{latest.pk if latest else 0}"
    elif kind == "draft":
        # A probe opened a draft: the DSI is asked to confirm or close it (never the public).
        incident = Incident.objects.filter(pk=object_id).drafts().first()
        if incident is None:
            return 0
        return notify_template(
            dsi_people(),
            "status/mail/draft",
            {
                "incident": incident,
                "update": incident.updates.first(),
                "services": list(incident.services.all()),
                "link": absolute_url(reverse("status:manage_incident", args=[incident.pk])),
            },
            category=Category.INCIDENTS,
            url=reverse("status:manage_incident", args=[incident.pk]),
            key=f"status-draft-{incident.pk}",
            # A service may be down now: not for a 17 h digest or after the weekend.
            urgent=True,
        )
    elif kind == "maintenance":
        window = Maintenance.objects.filter(pk=object_id).first()
        if window is None:
            return 0
        services = list(window.services.all())
        context = {
            "window": window,
            "services": services,
            "link": absolute_url(reverse("status:page")),
        }
        template = "status/mail/maintenance"
        url = reverse("status:page")
        key = ""  # a window rescheduled is news again
    else:
        raise ValueError(f"unknown kind {kind!r}")
    recipients = _recipients([service.pk for service in services])
    return notify_template(
        recipients, template, context, category=Category.INCIDENTS, url=url, key=key
    )
