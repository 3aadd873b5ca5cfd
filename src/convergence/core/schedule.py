"""The schedule registry: the periodic jobs each app registers in its ``AppConfig.ready()``.

django-tasks runs the work handed to it but has no clock, so ``manage.py run_scheduled`` (cron,
a systemd timer, or its own ``--loop``) asks this module which jobs are due and hands them to
the task queue. Several hosts may run that command at the same moment (one per application
server, or a timer overlapping a loop): each job is claimed by one conditional UPDATE of its
``ScheduledJob`` row, which exactly one caller wins on SQLite and PostgreSQL alike, so a job
never starts twice in the same period. No file on disk: the database is what the hosts share.

A daily job (the default ``every``) runs at most once per calendar day in ``TIME_ZONE``
(Europe/Paris); any other job at most once per ``every``.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django_tasks.base import Task, TaskResult, TaskResultStatus

from convergence.core.models import ScheduledJob

logger = logging.getLogger(__name__)

DAILY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Job:
    """A task the schedule starts on its own, and how often."""

    name: str
    task: Task[Any, Any]
    every: datetime.timedelta = DAILY

    @property
    def daily(self) -> bool:
        return self.every == DAILY

    def due_before(self, now: datetime.datetime) -> datetime.datetime:
        """The job is due at ``now`` if it has not started since this moment."""
        if self.daily:
            today = timezone.localdate(now, timezone.get_default_timezone())
            return datetime.datetime.combine(
                today, datetime.time.min, tzinfo=timezone.get_default_timezone()
            )
        return now - self.every

    def due_filter(self, now: datetime.datetime) -> Q:
        """ "Not started since the boundary" as a condition on ``ScheduledJob`` rows: a periodic
        job is due again once ``every`` has fully elapsed, a daily one at midnight."""
        boundary = self.due_before(now)
        started_before = (
            Q(last_started_at__lt=boundary) if self.daily else Q(last_started_at__lte=boundary)
        )
        return Q(last_started_at__isnull=True) | started_before


_JOBS: dict[str, Job] = {}


def register_job(name: str, task: Task[Any, Any], *, every: datetime.timedelta = DAILY) -> Job:
    """Add ``task`` to the schedule as ``name`` (from an ``AppConfig.ready()``).

    The name is what operators and the ``core_scheduledjob`` table know the job by: keep it
    stable. Registering the same job again changes nothing; another task under a taken name
    is refused, so two apps cannot silently replace each other's job.
    """
    if every <= datetime.timedelta(0):
        raise ValueError(f"Scheduled job {name!r}: 'every' must be positive, not {every}.")
    job = Job(name=name, task=task, every=every)
    existing = _JOBS.get(name)
    if existing is not None and existing != job:
        raise ValueError(f"Scheduled job {name!r} is already registered with another task.")
    _JOBS[name] = job
    return job


def unregister_job(name: str) -> None:
    """Take ``name`` off the schedule (tests that register their own job); its row stays."""
    _JOBS.pop(name, None)


def jobs() -> list[Job]:
    """Every registered job, in registration order (the order of ``INSTALLED_APPS``)."""
    return list(_JOBS.values())


def claim(job: Job, *, now: datetime.datetime) -> bool:
    """Mark ``job`` as started at ``now`` if it is due; True for exactly one racing caller.

    One UPDATE whose WHERE clause says "due": the database serialises concurrent updates of
    the row (PostgreSQL, at its default READ COMMITTED, re-checks the condition on the row the
    winner committed; SQLite has a single writer), so every caller but the first updates
    nothing. The row must exist (``run_due_jobs`` creates it).
    """
    due = ScheduledJob.objects.filter(job.due_filter(now), name=job.name)
    return due.update(last_started_at=now) == 1


def _release(
    job: Job, *, claimed_at: datetime.datetime, previous: datetime.datetime | None
) -> None:
    """Give a claim back (the job could not start), unless someone claimed it since."""
    ScheduledJob.objects.filter(name=job.name, last_started_at=claimed_at).update(
        last_started_at=previous
    )


def _rows(registered: list[Job]) -> dict[str, datetime.datetime | None]:
    """When each registered job last started, creating the rows of new jobs."""
    names = [job.name for job in registered]
    starts = dict(
        ScheduledJob.objects.filter(name__in=names).values_list("name", "last_started_at")
    )
    missing = [name for name in names if name not in starts]
    if missing:
        # Another host may create the same rows at the same moment: the first insert wins.
        ScheduledJob.objects.bulk_create(
            [ScheduledJob(name=name) for name in missing], ignore_conflicts=True
        )
        starts.update(
            ScheduledJob.objects.filter(name__in=missing).values_list("name", "last_started_at")
        )
    return starts


def run_due_jobs(*, now: datetime.datetime | None = None, inline: bool = False) -> list[str]:
    """Enqueue (or, ``inline``, run here) every due job this caller claims; their names.

    A job claimed by another process or host is left to it. A job that cannot be enqueued,
    or fails inline, is logged and its claim given back, so the next check tries it again;
    an enqueued job that fails in the worker waits for its next period.
    """
    moment = now or timezone.now()
    registered = jobs()
    starts = _rows(registered)
    started: list[str] = []
    for job in registered:
        previous = starts.get(job.name)
        if not claim(job, now=moment):
            continue
        began = timezone.now()
        try:
            if inline:
                job.task.call()
            else:
                job.task.enqueue()
        except Exception:
            logger.exception("Scheduled job %s failed", job.name)
            _release(job, claimed_at=moment, previous=previous)
            continue
        if inline:
            # On the caller's clock (``now`` may be given): the start plus the time it took.
            ScheduledJob.objects.filter(name=job.name).update(
                last_finished_at=moment + (timezone.now() - began)
            )
        started.append(job.name)
    return started


def last_runs() -> dict[str, datetime.datetime]:
    """When each registered job last started (enqueued or run), in UTC; never-run jobs absent."""
    rows = ScheduledJob.objects.filter(
        name__in=[job.name for job in jobs()], last_started_at__isnull=False
    ).values_list("name", "last_started_at")
    return {name: started for name, started in rows if started is not None}


def record_finish(sender: Any, task_result: TaskResult[Any], **kwargs: Any) -> None:
    """``task_finished`` receiver: a scheduled job that the worker finished successfully."""
    if task_result.status != TaskResultStatus.SUCCESSFUL:
        return
    path = task_result.task.module_path
    names = [job.name for job in _JOBS.values() if job.task.module_path == path]
    if names:
        ScheduledJob.objects.filter(name__in=names).update(
            last_finished_at=task_result.finished_at or timezone.now()
        )
