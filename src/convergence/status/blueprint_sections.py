"""Blueprint sections of service status.

``status_probes``: the probes of each service, found by (``service``, ``name``) and updated,
so loading the same file twice changes nothing; a probe's running state is kept.
``status_peaks``: the busy periods of the school calendar, replaced by the blueprint's.
``status_demo_history``: the demo's resolved incident and planned maintenance, placed
relative to the day the demo is loaded (``days_ago``, ``in_days``), through the actions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from convergence.core.blueprints import BlueprintError, LoadReport, time_range
from convergence.portal.models import Service
from convergence.status.models import Incident, Maintenance, PeakPeriod, Probe, ProbeKind

PROBE_FIELDS = {
    "interval": "interval_seconds",
    "timeout": "timeout_seconds",
    "retries": "retries",
    "down_after": "down_after",
    "up_after": "up_after",
    "expected_status": "expected_status",
    "keyword": "keyword",
    "slow_ms": "slow_ms",
    "certificate_warning_days": "certificate_warning_days",
    "enabled": "is_enabled",
}
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _service(slug: object, where: str) -> Service:
    service = Service.objects.filter(slug=str(slug)).first()
    if service is None:
        raise BlueprintError(f"{where} : service inconnu « {slug} ».")
    return service


def load_status_probes(data: list[dict[str, Any]], report: LoadReport) -> None:
    for item in data or []:
        where = f"Sonde {item.get('service')}/{item.get('name')}"
        unknown = sorted(set(item) - {"service", "name", "kind", "target", *PROBE_FIELDS})
        if unknown:
            raise BlueprintError(f"{where} : champs inconnus {', '.join(unknown)}.")
        service = _service(item.get("service"), where)
        if item.get("kind") not in ProbeKind.values:
            raise BlueprintError(
                f"{where} : type « {item.get('kind')} » inconnu ({', '.join(ProbeKind.values)})."
            )
        probe = Probe.objects.filter(service=service, name=str(item["name"])).first()
        created = probe is None
        if probe is None:
            probe = Probe(service=service, name=str(item["name"]))
        changed_target = (probe.kind, probe.target) != (item["kind"], str(item["target"]))
        probe.kind = item["kind"]
        probe.target = str(item["target"])
        for key, field in PROBE_FIELDS.items():
            if key in item:
                setattr(probe, field, item[key])
        if changed_target and not created:
            # Another target: what was settled about the old one no longer holds.
            probe.state, probe.consecutive_failures, probe.consecutive_successes = "unknown", 0, 0
        try:
            probe.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            raise BlueprintError(f"{where} : {' '.join(error.messages)}") from error
        if probe.interval_seconds < 10:
            raise BlueprintError(f"{where} : l'intervalle est d'au moins 10 secondes.")
        probe.save()
        report.count("sondes", created=created)


def _times(text: object, where: str) -> tuple[dt.time, dt.time]:
    return time_range(text, where=where)


def _date(value: object, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as error:
        raise BlueprintError(f"{where} : date illisible « {value} ».") from error


def load_status_peaks(data: list[dict[str, Any]], report: LoadReport) -> None:
    """``{name, from, to, hours?}`` (days, whole or between two times) or
    ``{name, every: monday, hours: "7:30-9:30"}``."""
    periods = []
    for item in data or []:
        where = f"Période chargée « {item.get('name')} »"
        start_time = end_time = None
        if item.get("hours"):
            start_time, end_time = _times(item["hours"], where)
        if "every" in item:
            day = str(item["every"]).lower()
            if day not in DAYS:
                raise BlueprintError(f"{where} : jour inconnu « {item['every']} ».")
            if start_time is None:
                raise BlueprintError(f"{where} : une période hebdomadaire a des horaires.")
            periods.append(
                PeakPeriod(
                    name=item["name"],
                    weekday=DAYS.index(day),
                    start_time=start_time,
                    end_time=end_time,
                )
            )
            continue
        first = _date(item.get("from"), where)
        last = _date(item.get("to", first), where)
        if last < first:
            raise BlueprintError(f"{where} : la fin précède le début.")
        periods.append(
            PeakPeriod(
                name=item["name"],
                starts_on=first,
                ends_on=last,
                start_time=start_time,
                end_time=end_time,
            )
        )
    # Found by name: the same blueprint loaded again changes nothing; a period the blueprint
    # no longer names is removed.
    kept = []
    for period in periods:
        existing = PeakPeriod.objects.filter(name=period.name).first()
        if existing is not None:
            period.pk = existing.pk
            period._state.adding = False
        created = existing is None
        try:
            period.full_clean(validate_unique=False)
        except ValidationError as error:
            raise BlueprintError(f"Période chargée « {period.name} » : {error.messages}") from error
        if created or any(
            getattr(existing, field) != getattr(period, field)
            for field in ("starts_on", "ends_on", "weekday", "start_time", "end_time")
        ):
            period.save()
            report.count("périodes chargées", created=created)
        kept.append(period.pk)
    PeakPeriod.objects.exclude(pk__in=kept).delete()


def load_status_demo_history(data: dict[str, Any], report: LoadReport) -> None:
    """The demo's past incident and coming maintenance; one with the same title is kept."""
    from convergence.status import actions

    people = report.context.get("people", {})
    now = timezone.now().replace(second=0, microsecond=0)
    for item in (data or {}).get("incidents", []):
        if Incident.objects.filter(title=item["title"]).exists():
            report.count("incidents", created=False)
            continue
        author = people.get(item.get("by", ""))
        opened = now - dt.timedelta(days=int(item["days_ago"]), hours=item.get("hours_ago", 0))
        services = [_service(slug, f"Incident « {item['title']} »") for slug in item["services"]]
        updates = item["updates"]
        incident = actions.open_incident(
            acting_user=author,
            title=item["title"],
            impact=item["impact"],
            services=services,
            message=updates[0]["message"],
            stage=updates[0]["stage"],
            now=opened,
        )
        for update in updates[1:]:
            actions.post_update(
                acting_user=author,
                incident=incident,
                stage=update["stage"],
                message=update["message"],
                now=opened + dt.timedelta(minutes=int(update["after_minutes"])),
            )
        if item.get("postmortem") and author is not None:
            actions.set_postmortem(acting_user=author, incident=incident, text=item["postmortem"])
        report.count("incidents", created=True)
    for item in (data or {}).get("maintenances", []):
        if Maintenance.objects.filter(title=item["title"], ends_at__gt=now).exists():
            report.count("maintenances", created=False)
            continue
        author = people.get(item.get("by", ""))
        day = timezone.localdate(now) + dt.timedelta(days=int(item["in_days"]))
        start_time, end_time = _times(item["hours"], f"Maintenance « {item['title']} »")
        zone = timezone.get_default_timezone()
        actions.schedule_maintenance(
            acting_user=author,
            title=item["title"],
            message=item["message"],
            starts_at=dt.datetime.combine(day, start_time, tzinfo=zone),
            ends_at=dt.datetime.combine(day, end_time, tzinfo=zone),
            services=[
                _service(slug, f"Maintenance « {item['title']} »") for slug in item["services"]
            ],
            # Written in the file on purpose: a busy period it meets is kept on the window.
            despite_busy_periods=True,
        )
        report.count("maintenances", created=True)
