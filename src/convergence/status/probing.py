"""A round of probes, as the worker runs it: check every due probe, record, settle, react.

1. The due probes are claimed by pushing their next check forward (one UPDATE per probe that
   only succeeds if nobody else moved it), so two rounds running at once never check the
   same probe twice.
2. Their checks run together in a bounded pool of threads (``STATUS_PROBE_THREADS``): a
   round of 500 probes against answering services takes about as long as the slowest one.
3. The results are written in one bulk insert; each probe's running state is settled with
   flap damping (``settle``) and saved; the hourly aggregates of the probes checked are
   recomputed from their raw results (idempotent).
4. A service whose probes went down opens a draft incident, unless a maintenance window
   covers it or an incident is already open; a service that came back closes the draft the
   worker opened (``status.actions``).
5. The snapshot every page reads is rebuilt (``status.snapshot``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.utils import timezone

from convergence.status import actions, checks, snapshot
from convergence.status.models import (
    PROBE_RUNNING_FIELDS,
    HourlyStat,
    Maintenance,
    Probe,
    ProbeResult,
    ProbeState,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Transition:
    probe: Probe
    before: str
    after: str


def settle(probe: Probe, outcome: checks.Outcome, now: dt.datetime) -> str | None:
    """Apply one check to ``probe``'s running state; the new state if it changed.

    Down after ``down_after`` failures in a row; back up (or slow) after ``up_after``
    successes in a row; slow after ``down_after`` slow answers in a row. A probe never
    checked settles on its first answer, so a fresh deployment says something at once.
    """
    before = probe.state
    if outcome.ok:
        probe.consecutive_failures = 0
        probe.consecutive_successes += 1
        slow = outcome.response_ms is not None and outcome.response_ms > probe.slow_ms
        probe.consecutive_slow = probe.consecutive_slow + 1 if slow else 0
        healthy = ProbeState.SLOW if probe.consecutive_slow >= probe.down_after else ProbeState.UP
        settles = (
            before == ProbeState.UNKNOWN
            or (before == ProbeState.DOWN and probe.consecutive_successes >= probe.up_after)
            # Up to slow after enough slow answers; slow back to up at the first quick one.
            or (
                before in (ProbeState.UP, ProbeState.SLOW)
                and (healthy == ProbeState.SLOW or probe.consecutive_slow == 0)
            )
        )
        if settles:
            probe.state = healthy
        probe.last_error = ""
        probe.last_response_ms = outcome.response_ms
        if outcome.certificate_expires_at is not None:
            probe.certificate_expires_at = outcome.certificate_expires_at
    else:
        probe.consecutive_successes = 0
        probe.consecutive_slow = 0
        probe.consecutive_failures += 1
        if before == ProbeState.UNKNOWN or probe.consecutive_failures >= probe.down_after:
            probe.state = ProbeState.DOWN
        probe.last_error = outcome.error
        probe.last_response_ms = None
    probe.last_checked_at = now
    probe.next_check_at = now + dt.timedelta(seconds=probe.interval_seconds)
    if probe.state != before:
        probe.state_since = now
        return str(probe.state)
    return None


def _claim_horizon(probe: Probe) -> dt.timedelta:
    """How far a claim pushes the next check: the interval, or longer than the check itself
    may last (each try bounded at twice the timeout), so a slow round is not overtaken by the
    next one checking the same probe."""
    longest = probe.timeout_seconds * 2 * (probe.retries + 1) + 5
    return dt.timedelta(seconds=max(probe.interval_seconds, longest))


def _claim(probes: list[Probe], now: dt.datetime) -> list[Probe]:
    """The probes this round won: each one's next check moved on, if nobody else did."""
    claimed = []
    for probe in probes:
        moved = (
            Probe.objects.filter(pk=probe.pk)
            .filter(Q(next_check_at__isnull=True) | Q(next_check_at=probe.next_check_at))
            .update(next_check_at=now + _claim_horizon(probe))
        )
        if moved:
            claimed.append(probe)
    return claimed


def _spec(probe: Probe) -> checks.Spec:
    return checks.Spec(
        kind=probe.kind,
        target=probe.target,
        timeout=probe.timeout_seconds,
        retries=probe.retries,
        expected_status=probe.expected_status,
        keyword=probe.keyword,
    )


def _hours(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    current = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return current - dt.timedelta(hours=1), current


def roll_up(probe_ids: Iterable[int], now: dt.datetime) -> int:
    """Recompute the last two hours' aggregates of these probes from their raw results."""
    ids = list(probe_ids)
    if not ids:
        return 0
    previous, current = _hours(now)
    counted = Q(during_maintenance=False)
    rows = []
    for hour in (previous, current):
        end = hour + dt.timedelta(hours=1)
        for row in (
            ProbeResult.objects.filter(probe_id__in=ids, checked_at__gte=hour, checked_at__lt=end)
            .values("probe_id")
            # Planned work is not downtime: checks made during a maintenance window of the
            # probe's service count in neither the uptime nor the response times.
            .annotate(
                checks=Count("pk", filter=counted),
                failures=Count("pk", filter=counted & Q(ok=False)),
                total=Sum("response_ms", filter=counted),
                longest=Max("response_ms", filter=counted),
            )
        ):
            rows.append(
                HourlyStat(
                    probe_id=row["probe_id"],
                    hour=hour,
                    checks=row["checks"],
                    failures=row["failures"],
                    total_ms=row["total"] or 0,
                    max_ms=row["longest"] or 0,
                )
            )
    HourlyStat.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["probe", "hour"],
        update_fields=["checks", "failures", "total_ms", "max_ms"],
    )
    return len(rows)


def run_checks(probes: list[Probe]) -> list[checks.Outcome]:
    """Every probe's check, in parallel threads, in the order given."""
    if not probes:
        return []
    workers = max(1, min(settings.STATUS_PROBE_THREADS, len(probes)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe") as pool:
        return list(pool.map(checks.run, [_spec(probe) for probe in probes]))


def run_round(*, now: dt.datetime | None = None) -> list[Transition]:
    """Check the due probes once; the state changes it caused."""
    started = now or timezone.now()
    due = list(Probe.objects.due(started).select_related("service"))
    probes = _claim(due, started)
    outcomes = run_checks(probes)
    finished = now or timezone.now()
    transitions: list[Transition] = []
    in_maintenance = set(
        Maintenance.objects.active_at(finished)
        .filter(services__in={probe.service_id for probe in probes})
        .values_list("services", flat=True)
    )
    with transaction.atomic():
        ProbeResult.objects.bulk_create(
            [
                ProbeResult(
                    probe=probe,
                    checked_at=finished,
                    ok=outcome.ok,
                    response_ms=outcome.response_ms,
                    error=outcome.error,
                    during_maintenance=probe.service_id in in_maintenance,
                )
                for probe, outcome in zip(probes, outcomes, strict=True)
            ]
        )
        for probe, outcome in zip(probes, outcomes, strict=True):
            before = probe.state
            after = settle(probe, outcome, finished)
            if after is not None:
                transitions.append(Transition(probe=probe, before=before, after=after))
        Probe.objects.bulk_update(probes, PROBE_RUNNING_FIELDS)
        roll_up((probe.pk for probe in probes), finished)
        # Services whose probes changed state, and those still down (a maintenance window
        # ended over a service that had gone down during it: its draft opens now).
        services = {transition.probe.service_id for transition in transitions}
        services |= {probe.service_id for probe in probes if probe.state == ProbeState.DOWN}
        if services:
            actions.react_to_probes(service_ids=services, now=finished)
    for transition in transitions:
        logger.info("Probe %s: %s -> %s", transition.probe, transition.before, transition.after)
    if probes or transitions or snapshot.needs_refresh(finished):
        # A state change shows in the uptimes at once, not at the next hourly recount.
        snapshot.refresh(now=finished, with_history=bool(transitions))
    return transitions
