"""The state of every service as one document, built by the worker, read by every page.

The public page, its feed, its JSON document, the tiles and the banners never query the
database for the state of services: they read this snapshot. The worker rebuilds it after
each round of probes, and every action on incidents and maintenance windows rebuilds it once
its transaction commits. It is kept in two places:

* the cache, when it is shared by every process and host (Redis, ``REDIS_URL``); a cache in
  each process's memory (the embedded set-up) is not used, since a web process would keep
  reading its own old copy;
* a JSON file on the local disk (``STATUS_SNAPSHOT_PATH``), written whole and renamed into
  place: the shared copy of the embedded set-up, and the last resort when Redis is down. A
  reader parses it again only when its modification time or size changed.

A process keeps what it read for ``MEMO_SECONDS``, so a busy status page costs a dictionary
lookup. When the database is down the worker cannot rebuild it: readers keep the last one,
which says when it was made.

Building has two speeds: states, incidents and maintenance windows every time; the
history (uptime over 24 hours, 7 and 90 days, response times, 90 daily bars), which reads
up to 90 days of hourly rows, at most every ``HISTORY_SECONDS`` or when asked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from convergence.portal.models import Service
from convergence.status.models import (
    SEVERITY,
    HourlyStat,
    Incident,
    Maintenance,
    Probe,
    ProbeState,
    State,
)

logger = logging.getLogger(__name__)

CACHE_KEY = "status:snapshot"
MEMO_SECONDS = 2.0
HISTORY_SECONDS = 300
HISTORY_DAYS = 90
RESPONSE_HOURS = 24
# Resolved incidents shown on the page and in the feed.
RECENT_INCIDENTS = 30

_memo: dict[str, Any] = {"at": 0.0, "snapshot": None}
_memo_lock = threading.Lock()


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _probe_state(states: list[str]) -> str:
    """A service's state from its probes: all down is down, some down is degraded."""
    if not states:
        return State.UNKNOWN
    down = states.count(ProbeState.DOWN)
    if down and down == len(states):
        return State.DOWN
    if down or ProbeState.SLOW in states:
        return State.DEGRADED
    if all(state == ProbeState.UNKNOWN for state in states):
        return State.UNKNOWN
    return State.OPERATIONAL


def _worst(*states: str) -> str:
    return max(states, key=lambda state: SEVERITY[State(state)])


def _incident(incident: Incident) -> dict[str, Any]:
    updates = list(incident.updates.all())
    return {
        "id": incident.pk,
        "title": incident.title,
        "impact": incident.impact,
        "stage": updates[0].stage if updates else "enquete",
        "opened_at": _iso(incident.opened_at),
        "resolved_at": _iso(incident.resolved_at),
        "services": sorted(service.slug for service in incident.services.all()),
        "postmortem": incident.postmortem,
        "updates": [
            {"stage": update.stage, "message": update.message, "posted_at": _iso(update.posted_at)}
            for update in updates
        ],
    }


def _maintenance(window: Maintenance, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": window.pk,
        "title": window.title,
        "message": window.message,
        "starts_at": _iso(window.starts_at),
        "ends_at": _iso(window.ends_at),
        "active": window.starts_at <= now < window.ends_at,
        "services": sorted(service.slug for service in window.services.all()),
    }


def _history(now: dt.datetime) -> dict[str, Any]:
    """Per service slug: uptimes, hourly response times and 90 daily uptimes."""
    since = now - dt.timedelta(days=HISTORY_DAYS)
    rows = HourlyStat.objects.filter(hour__gte=since, probe__is_enabled=True)
    tz = timezone.get_default_timezone()
    by_day: dict[str, dict[str, tuple[int, int]]] = defaultdict(dict)
    for row in rows.values("probe__service__slug", day=TruncDate("hour", tzinfo=tz)).annotate(
        checks=Sum("checks"), failures=Sum("failures")
    ):
        by_day[row["probe__service__slug"]][row["day"].isoformat()] = (
            row["checks"],
            row["failures"],
        )
    recent = rows.filter(hour__gte=now - dt.timedelta(days=7))
    hourly: dict[str, list[tuple[dt.datetime, int, int, int]]] = defaultdict(list)
    for hour_row in (
        recent.values("probe__service__slug", "hour")
        .annotate(checks=Sum("checks"), failures=Sum("failures"), total=Sum("total_ms"))
        .order_by("hour")
    ):
        hourly[hour_row["probe__service__slug"]].append(
            (hour_row["hour"], hour_row["checks"], hour_row["failures"], hour_row["total"] or 0)
        )

    def uptime(pairs: list[tuple[int, int]]) -> float | None:
        checks = sum(pair[0] for pair in pairs)
        if not checks:
            return None
        return round(100 * (checks - sum(pair[1] for pair in pairs)) / checks, 3)

    today = timezone.localdate(now, tz)
    days = [(today - dt.timedelta(days=offset)).isoformat() for offset in range(HISTORY_DAYS)]
    hours = [
        (now - dt.timedelta(hours=offset)).replace(minute=0, second=0, microsecond=0)
        for offset in range(RESPONSE_HOURS - 1, -1, -1)
    ]
    history: dict[str, Any] = {}
    for slug in set(by_day) | set(hourly):
        per_hour = hourly.get(slug, [])
        day_rows = by_day.get(slug, {})
        average = {
            hour: round(total / (checks - failures)) if checks > failures else None
            for hour, checks, failures, total in per_hour
        }
        history[slug] = {
            "uptime": {
                "24h": uptime(
                    [(c, f) for h, c, f, _t in per_hour if h > now - dt.timedelta(hours=24)]
                ),
                "7d": uptime([(c, f) for _h, c, f, _t in per_hour]),
                "90d": uptime(list(day_rows.values())),
            },
            "response_ms": [[_iso(hour), average.get(hour)] for hour in hours],
            "days": [[day, uptime([day_rows[day]]) if day in day_rows else None] for day in days],
        }
    return history


def build(
    *,
    now: dt.datetime | None = None,
    history: dict[str, Any] | None = None,
    history_at: str | None = None,
) -> dict[str, Any]:
    """The snapshot, from the database; ``history`` (made at ``history_at``) reused if given,
    computed otherwise."""
    read_at = time.time()
    now = now or timezone.now()
    if history is None:
        history, history_at = _history(now), _iso(now)
    probes: dict[int, list[Probe]] = defaultdict(list)
    for probe in Probe.objects.enabled().only(
        "service_id", "state", "state_since", "last_checked_at"
    ):
        probes[probe.service_id].append(probe)
    # Every unresolved incident (each one raises its services' state), then the latest
    # resolved ones.
    published = Incident.objects.published().prefetch_related("services", "updates")
    incidents = list(published.unresolved()) + list(
        published.filter(resolved_at__gte=now - dt.timedelta(days=90))[:RECENT_INCIDENTS]
    )
    windows = list(Maintenance.objects.upcoming(now).prefetch_related("services"))
    open_incidents = [incident for incident in incidents if incident.resolved_at is None]
    concerned = {service.pk for incident in open_incidents for service in incident.services.all()}
    concerned |= {service.pk for window in windows for service in window.services.all()}
    services = []
    for service in Service.objects.published().filter(Q(pk__in=probes) | Q(pk__in=concerned)):
        own = probes.get(service.pk, [])
        monitored = bool(own)
        state = _probe_state([probe.state for probe in own]) if monitored else State.OPERATIONAL
        since = max((probe.state_since for probe in own if probe.state_since), default=None)
        for incident in open_incidents:
            if service in incident.services.all():
                worse = _worst(state, incident.impact)
                if worse != state:
                    state, since = worse, incident.opened_at
        for window in windows:
            if window.starts_at <= now and service in window.services.all():
                state, since = State.MAINTENANCE, window.starts_at
        services.append(
            {
                "id": service.pk,
                "slug": service.slug,
                "name": service.name,
                "monitored": monitored,
                "state": str(state),
                "since": _iso(since),
                "checked_at": _iso(
                    max((p.last_checked_at for p in own if p.last_checked_at), default=None)
                ),
                **history.get(service.slug, {"uptime": {}, "response_ms": [], "days": []}),
            }
        )
    states = {service["slug"]: service["state"] for service in services}
    digest = hashlib.sha256(
        json.dumps(
            [states, [i.pk for i in open_incidents], [w.pk for w in windows]], sort_keys=True
        ).encode()
    ).hexdigest()[:16]
    return {
        "generated_at": _iso(now),
        # The real time the database was read (``now`` may be given): of two snapshots, the
        # one read later wins (``publish``).
        "built_at": read_at,
        "history_at": history_at,
        # Changes only with what a tile or a banner shows: their cached parts are keyed by it.
        "states_version": digest,
        "services": services,
        "incidents": [_incident(incident) for incident in incidents],
        "maintenances": [_maintenance(window, now) for window in windows],
    }


# A snapshot older than this is rebuilt by the next round even when no probe was due, so
# that maintenance windows start and end on the pages without a probe (unmonitored services).
STALE_SECONDS = 60


def needs_refresh(now: dt.datetime) -> bool:
    """Whether the published snapshot is missing, old, or a maintenance window has started or
    ended since it was made."""
    published = _read_shared()
    if not published or not published.get("generated_at"):
        return True
    made = dt.datetime.fromisoformat(published["generated_at"])
    if abs((now - made).total_seconds()) >= STALE_SECONDS:
        return True
    return (
        Maintenance.objects.scheduled()
        .filter(Q(starts_at__gt=made, starts_at__lte=now) | Q(ends_at__gt=made, ends_at__lte=now))
        .exists()
    )


def path() -> Path:
    return Path(settings.STATUS_SNAPSHOT_PATH)


def _write_file(snapshot: dict[str, Any]) -> None:
    target = path()
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".snapshot-")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(snapshot, handle, ensure_ascii=False)
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def publish(snapshot: dict[str, Any]) -> None:
    """Make ``snapshot`` the one every reader gets (cache and file; either may fail), unless
    the one published already was read from the database later (a slow round finishing
    after a DSI's change must not bring the old state back). Read again here, not reused
    from before the build: another process may have published meanwhile."""
    published = _read_shared()
    if published and float(published.get("built_at") or 0) > float(snapshot.get("built_at") or 0):
        logger.info("Status snapshot: a newer one is already published; this one is dropped.")
        return
    if _cache_is_shared():
        try:
            cache.set(CACHE_KEY, snapshot, timeout=None)
        except Exception:
            logger.warning("Status snapshot: the cache is unavailable; the file is kept.")
    try:
        _write_file(snapshot)
    except OSError:
        logger.exception("Status snapshot: cannot write %s", path())
    with _memo_lock:
        _memo.update(at=time.monotonic(), snapshot=snapshot)


def refresh(*, with_history: bool = False, now: dt.datetime | None = None) -> dict[str, Any]:
    """Rebuild and publish; the history is recomputed when asked or when it is too old."""
    now = now or timezone.now()
    previous = _read_shared()
    history = None
    if previous and not with_history:
        made = dt.datetime.fromisoformat(previous.get("history_at") or "1970-01-01T00:00:00+00:00")
        services = previous.get("services", [])
        # A service measured since the history was made has none yet: make it now.
        missing = any(
            service.get("monitored") and not service.get("uptime") for service in services
        )
        if now - made < dt.timedelta(seconds=HISTORY_SECONDS) and not missing:
            history = {
                service["slug"]: {
                    "uptime": service.get("uptime", {}),
                    "response_ms": service.get("response_ms", []),
                    "days": service.get("days", []),
                }
                for service in previous.get("services", [])
            }
    snapshot = build(
        now=now,
        history=history,
        history_at=previous.get("history_at") if history is not None and previous else None,
    )
    publish(snapshot)
    return snapshot


def _cache_is_shared() -> bool:
    """Whether every process reads the same cache (Redis), not each its own memory."""
    backend = str(settings.CACHES["default"]["BACKEND"])
    return not backend.endswith(("LocMemCache", "DummyCache"))


# The file as last parsed by this process: (modification time, size) and its content.
_parsed: dict[str, Any] = {"stamp": None, "snapshot": None}


def _read_file() -> dict[str, Any] | None:
    try:
        status = path().stat()
        stamp = (status.st_mtime_ns, status.st_size)
        if stamp == _parsed["stamp"]:
            return _parsed["snapshot"]  # type: ignore[no-any-return]
        with path().open(encoding="utf-8") as handle:
            loaded = json.load(handle)
    except (OSError, ValueError):
        return None
    found = loaded if isinstance(loaded, dict) else None
    _parsed.update(stamp=stamp, snapshot=found)
    return found


def _read_shared() -> dict[str, Any] | None:
    """The cache's copy when the cache is shared and answers, else the file's."""
    if _cache_is_shared():
        try:
            found = cache.get(CACHE_KEY)
        except Exception:
            found = None
        if isinstance(found, dict):
            return found
    return _read_file()


def current() -> dict[str, Any] | None:
    """The last published snapshot (None before the worker's first round)."""
    with _memo_lock:
        if _memo["snapshot"] is not None and time.monotonic() - _memo["at"] < MEMO_SECONDS:
            return _memo["snapshot"]  # type: ignore[no-any-return]
    found = _read_shared()
    with _memo_lock:
        _memo.update(at=time.monotonic(), snapshot=found)
    return found


def forget() -> None:
    """Drop this process's copy (tests; a reader wanting the very latest)."""
    with _memo_lock:
        _memo.update(at=0.0, snapshot=None)
        _parsed.update(stamp=None, snapshot=None)
