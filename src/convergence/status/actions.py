"""Every write on incidents, maintenance windows and subscriptions, and the worker's
reaction to probes that changed state.

Each action is keyword-only, runs in one transaction, writes its audit row (the worker's own
reactions are recorded without an actor) and, once committed, rebuilds the snapshot every page
reads (``status.snapshot``) and tells the subscribers of the services concerned
(``status.notify``) of what became public.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.portal.models import Service
from convergence.status import events, notify, peaks, snapshot
from convergence.status.models import (
    Impact,
    Incident,
    IncidentUpdate,
    Maintenance,
    Probe,
    ProbeState,
    Stage,
    Subscription,
)
from convergence.status.presentation import printable


class StatusError(Exception):
    """The action does not apply as things are (a French message)."""


class BusyPeriods(StatusError):
    """The window falls in busy periods of the school year (``periods``, each in French) and
    the DSI has not yet said to keep it there."""

    def __init__(self, periods: list[str]) -> None:
        super().__init__(_("Cette maintenance tombe pendant une période chargée."))
        self.periods = periods


def _after_commit(*, tell: tuple[str, int] | None = None) -> None:
    """Once committed: subscribers told (first: a failing rebuild must not silence them),
    then the snapshot rebuilt; each on its own, a failure of one logged, never raised to a
    person whose change is already made."""
    if tell is not None:
        kind, object_id = tell
        transaction.on_commit(
            lambda: notify.tell_subscribers(kind=kind, object_id=object_id), robust=True
        )
    transaction.on_commit(snapshot.refresh, robust=True)


def _text(value: str) -> str:
    """What a person typed, trimmed, without the control characters XML cannot carry."""
    return printable(value).strip()


def _service_ids(services: Iterable[Service]) -> list[int]:
    ids = sorted({service.pk for service in services})
    if not ids:
        raise StatusError(_("Choisissez au moins un service concerné."))
    return ids


@transaction.atomic
def open_incident(
    *,
    acting_user: User | None,
    title: str,
    impact: str,
    services: Sequence[Service],
    message: str,
    stage: str = Stage.INVESTIGATING,
    publish: bool = True,
    automatic: bool = False,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Incident:
    """Open an incident with its first update; published at once unless ``publish`` is
    False (a draft the DSI confirms)."""
    ids = _service_ids(services)
    moment = now or timezone.now()
    if stage == Stage.RESOLVED:
        raise StatusError(_("Un incident s'ouvre à une autre étape que « Résolu »."))
    incident = Incident.objects.create(
        title=_text(title),
        impact=Impact(impact),
        is_published=publish,
        opened_automatically=automatic,
        opened_at=moment,
        created_by=acting_user,
    )
    incident.services.set(ids)
    IncidentUpdate.objects.create(
        incident=incident,
        stage=Stage(stage),
        message=_text(message),
        posted_at=moment,
        author=acting_user,
    )
    record_event(
        event_type=events.INCIDENT_OPENED,
        request=request,
        actor=acting_user,
        data={
            "incident": incident.pk,
            "services": ids,
            "published": publish,
            "automatic": automatic,
        },
    )
    # Published: its subscribers are told; a draft a probe opened: the DSI is.
    if publish:
        _after_commit(tell=("incident", incident.pk))
    else:
        _after_commit(tell=("draft", incident.pk) if automatic else None)
    return incident


@transaction.atomic
def publish_draft(
    *,
    acting_user: User,
    incident: Incident,
    title: str,
    impact: str,
    message: str,
    request: HttpRequest | None = None,
) -> Incident:
    """The DSI confirms a draft, in their own words: it becomes public."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.is_published:
        raise StatusError(_("Cet incident est déjà publié."))
    if incident.resolved_at is not None:
        raise StatusError(_("Ce brouillon a été clos : ouvrez un nouvel incident si besoin."))
    incident.title = _text(title)
    incident.impact = Impact(impact)
    incident.is_published = True
    incident.save(update_fields=["title", "impact", "is_published"])
    first = incident.updates.order_by("posted_at", "pk").first()
    if first is not None and _text(message):
        first.message = _text(message)
        first.author = acting_user
        first.save(update_fields=["message", "author"])
    record_event(
        event_type=events.INCIDENT_PUBLISHED,
        request=request,
        actor=acting_user,
        data={"incident": incident.pk},
    )
    _after_commit(tell=("incident", incident.pk))
    return incident


@transaction.atomic
def post_update(
    *,
    acting_user: User | None,
    incident: Incident,
    stage: str,
    message: str,
    now: dt.datetime | None = None,
    only_draft: bool = False,
    request: HttpRequest | None = None,
) -> IncidentUpdate:
    """A new French message on the incident; « Résolu » closes it (time to resolve).
    ``only_draft``: closing a draft as a false alarm, whose reason stays internal — refused
    if a colleague published it meanwhile (checked under the row's lock)."""
    moment = now or timezone.now()
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.resolved_at is not None:
        raise StatusError(_("Cet incident est résolu : il ne reçoit plus de mise à jour."))
    if only_draft and incident.is_published:
        raise StatusError(_("Cet incident vient d'être publié : il ne peut plus être clos ainsi."))
    if not _text(message):
        raise StatusError(_("Écrivez le message de la mise à jour."))
    update = IncidentUpdate.objects.create(
        incident=incident,
        stage=Stage(stage),
        message=_text(message),
        posted_at=moment,
        author=acting_user,
    )
    resolved = stage == Stage.RESOLVED
    if resolved:
        incident.resolved_at = max(moment, incident.opened_at)
        incident.save(update_fields=["resolved_at"])
    record_event(
        event_type=events.INCIDENT_RESOLVED if resolved else events.INCIDENT_UPDATED,
        request=request,
        actor=acting_user,
        data={"incident": incident.pk, "stage": stage},
    )
    _after_commit(tell=("incident", incident.pk) if incident.is_published else None)
    return update


@transaction.atomic
def set_postmortem(
    *, acting_user: User, incident: Incident, text: str, request: HttpRequest | None = None
) -> Incident:
    """The optional retour d'expérience of a resolved incident."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.resolved_at is None:
        raise StatusError(_("Le retour d'expérience s'écrit une fois l'incident résolu."))
    incident.postmortem = _text(text)
    incident.save(update_fields=["postmortem"])
    record_event(
        event_type=events.INCIDENT_UPDATED,
        request=request,
        actor=acting_user,
        data={"incident": incident.pk, "postmortem": True},
    )
    _after_commit()
    return incident


@transaction.atomic
def schedule_maintenance(
    *,
    acting_user: User | None,
    title: str,
    message: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    services: Sequence[Service],
    despite_busy_periods: bool = False,
    request: HttpRequest | None = None,
) -> Maintenance:
    """A planned window. One that falls in busy periods of the school calendar
    (``peaks.overlapping``) is refused with ``BusyPeriods`` until the DSI confirms it
    (``despite_busy_periods``); the periods confirmed are kept on the window."""
    ids = _service_ids(services)
    if ends_at <= starts_at:
        raise StatusError(_("La fin de la maintenance doit suivre son début."))
    peak_warnings = peaks.overlapping(starts_at, ends_at)
    if peak_warnings and not despite_busy_periods:
        raise BusyPeriods(peak_warnings)
    window = Maintenance.objects.create(
        title=_text(title),
        message=_text(message),
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=acting_user,
        peak_warnings=peak_warnings,
    )
    window.services.set(ids)
    record_event(
        event_type=events.MAINTENANCE_SCHEDULED,
        request=request,
        actor=acting_user,
        data={"maintenance": window.pk, "services": ids, "peaks": len(peak_warnings)},
    )
    _after_commit(tell=("maintenance", window.pk))
    return window


@transaction.atomic
def cancel_maintenance(
    *, acting_user: User, window: Maintenance, request: HttpRequest | None = None
) -> Maintenance:
    window = Maintenance.objects.select_for_update().get(pk=window.pk)
    if window.cancelled_at is not None:
        raise StatusError(_("Cette maintenance est déjà annulée."))
    now = timezone.now()
    if window.ends_at <= now:
        raise StatusError(_("Cette maintenance est terminée."))
    window.cancelled_at = now
    window.save(update_fields=["cancelled_at"])
    record_event(
        event_type=events.MAINTENANCE_CANCELLED,
        request=request,
        actor=acting_user,
        data={"maintenance": window.pk},
    )
    _after_commit(tell=("maintenance", window.pk))
    return window


def subscribe(*, acting_user: User, service: Service, request: HttpRequest | None = None) -> bool:
    """Follow ``service``'s incidents and maintenance windows by e-mail; False if already."""
    with transaction.atomic():
        _subscription, created = Subscription.objects.get_or_create(
            user=acting_user, service=service
        )
        if created:
            record_event(
                event_type=events.SUBSCRIBED,
                request=request,
                actor=acting_user,
                data={"service": service.slug},
            )
    return created


def unsubscribe(*, acting_user: User, service: Service, request: HttpRequest | None = None) -> bool:
    with transaction.atomic():
        deleted, _rows = Subscription.objects.filter(user=acting_user, service=service).delete()
        if deleted:
            record_event(
                event_type=events.UNSUBSCRIBED,
                request=request,
                actor=acting_user,
                data={"service": service.slug},
            )
    return bool(deleted)


def _service_probe_states(
    service_ids: Iterable[int],
) -> dict[int, tuple[list[str], dt.datetime | None]]:
    """Each service's probe states, and since when the earliest of its down probes is down."""
    states: dict[int, tuple[list[str], dt.datetime | None]] = {}
    for service_id, state, since in (
        Probe.objects.enabled()
        .filter(service_id__in=service_ids)
        .values_list("service_id", "state", "state_since")
    ):
        found, down_since = states.get(service_id, ([], None))
        found.append(state)
        if state == ProbeState.DOWN and since is not None:
            down_since = since if down_since is None else min(down_since, since)
        states[service_id] = (found, down_since)
    return states


def react_to_probes(*, service_ids: Iterable[int], now: dt.datetime) -> dict[str, Any]:
    """Open a draft incident for each service whose probes went down (unless a maintenance
    window covers it or an incident is open on it); close the worker's drafts of services
    that answer again, and say so on the published ones. Called inside the round's
    transaction."""
    opened: list[int] = []
    closed: list[int] = []
    services = Service.objects.in_bulk(list(service_ids))
    for service_id, (states, down_since) in _service_probe_states(services).items():
        # Two rounds may react to the same service at once (a slow round overlapping the
        # next): the service's row, locked until commit, lets one decide at a time.
        service = Service.objects.select_for_update().get(pk=service_id)
        down = states.count(ProbeState.DOWN)
        open_here = Incident.objects.unresolved().affecting(service)
        if down:
            if Maintenance.objects.active_at(now).filter(services=service).exists():
                continue
            if open_here.exists():
                continue
            # The DSI closed an incident on it while it was down (a false alarm): no new
            # draft until the service has answered again.
            closed_since = Incident.objects.affecting(service).filter(
                resolved_at__gte=down_since or now
            )
            if closed_since.exists():
                continue
            impact = Impact.DOWN if down == len(states) else Impact.DEGRADED
            label = _("indisponible") if impact == Impact.DOWN else _("perturbé")
            incident = open_incident(
                acting_user=None,
                title=_("%(service)s %(state)s") % {"service": service.name, "state": label},
                impact=impact,
                services=[service],
                message=_(
                    "Le service ne répond plus normalement depuis %(time)s. "
                    "Les équipes techniques sont prévenues."
                )
                % {"time": timezone.localtime(now).strftime("%H h %M")},
                publish=False,
                automatic=True,
                now=now,
            )
            opened.append(incident.pk)
            continue
        for incident in open_here.filter(opened_automatically=True):
            if incident.services.exclude(pk=service.pk).exists():
                continue
            if incident.is_published:
                already = incident.updates.filter(stage=Stage.MONITORING).exists()
                if not already:
                    post_update(
                        acting_user=None,
                        incident=incident,
                        stage=Stage.MONITORING,
                        message=_("Le service répond de nouveau. Nous restons attentifs."),
                        now=now,
                    )
                continue
            post_update(
                acting_user=None,
                incident=incident,
                stage=Stage.RESOLVED,
                message=_("Le service répond de nouveau normalement."),
                now=now,
            )
            closed.append(incident.pk)
    return {"opened": opened, "closed": closed}
