"""The task queue at scale: RQ on Redis behind Django's Tasks API, with retries and recovery.

Apps enqueue with ``some_task.enqueue(...)`` whatever the backend; ``settings.TASKS`` picks
the database backend (embedded, one host) or, when ``REDIS_URL`` is set, :class:`RQBackend`.
On RQ every job carries a retry policy (``TASK_RETRY_DELAYS``: one retry per delay, the delays
growing), so a task that raises is run again later instead of being dropped, and a job whose
worker died under it — killed, out of memory, its machine gone — is found by the next
worker's maintenance once its heartbeat has lapsed and is retried the same way.

``manage.py run_worker`` starts the worker of whichever backend is configured, so deployment
units, ``make run`` and the production-shaped test harness all use one command.
"""

from __future__ import annotations

from typing import Any

import django_rq
from django.conf import settings
from django_tasks.base import TASK_MAX_PRIORITY, Task, TaskResult, TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks.utils import get_random_id
from django_tasks_rq.backend import Job, failed_callback, success_callback
from django_tasks_rq.backend import RQBackend as BaseRQBackend
from rq import Callback
from rq.job import JobStatus, Retry
from rq.worker import Worker as BaseWorker


def retry_policy() -> Retry | None:
    """One retry per delay of ``settings.TASK_RETRY_DELAYS`` (seconds); None for no retry."""
    delays = [int(delay) for delay in settings.TASK_RETRY_DELAYS]
    if not delays:
        return None
    return Retry(max=len(delays), interval=delays)


class RQBackend(BaseRQBackend):
    """django-tasks-rq's backend, with the retry policy set on every job it creates.

    The one seam where jobs are made: the rest (results, signals, the job class that calls
    the Task) is the library's.
    """

    def enqueue(self, task: Task[Any, Any], args: Any, kwargs: Any) -> TaskResult[Any]:
        self.validate_task(task)
        task_result: TaskResult[Any] = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        queue = django_rq.get_queue(task.queue_name, job_class=Job)
        job = queue.create_job(
            task.module_path,
            args=args,
            kwargs=kwargs,
            job_id=task_result.id,
            status=JobStatus.SCHEDULED if task.run_after else JobStatus.QUEUED,
            on_failure=Callback(failed_callback),
            on_success=Callback(success_callback),
            meta={"backend_name": self.alias},
            retry=retry_policy(),
        )
        if task.run_after is None:
            job = queue.enqueue_job(job, at_front=task.priority == TASK_MAX_PRIORITY)
        else:
            job = queue.schedule_job(job, task.run_after)
        object.__setattr__(task_result, "enqueued_at", job.enqueued_at)
        task_enqueued.send(type(self), task_result=task_result)
        return task_result


class Worker(BaseWorker):
    """RQ's forking worker, with the intervals that decide how soon a dead worker's job is
    taken up again (``TASK_HEARTBEAT_SECONDS``, ``TASK_ABANDONED_GRACE_SECONDS``,
    ``TASK_MAINTENANCE_SECONDS``) read from the settings instead of RQ's fixed 60 s grace and
    ten-minute maintenance: a job is declared abandoned once its worker has missed its
    heartbeats for the grace period, at the next maintenance of any live worker. An idle
    worker runs its maintenance between two waits for work, so ``run_worker`` makes a wait
    no longer than the maintenance interval (RQ's default is seven minutes).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("job_monitoring_interval", settings.TASK_HEARTBEAT_SECONDS)
        kwargs.setdefault("maintenance_interval", settings.TASK_MAINTENANCE_SECONDS)
        super().__init__(*args, **kwargs)

    def get_heartbeat_ttl(self, job: Any, working_time: float = 0.0) -> int:
        interval = self.job_monitoring_interval
        if job.timeout and job.timeout > 0:
            interval = min(job.timeout - working_time, interval)
        return int(interval) + settings.TASK_ABANDONED_GRACE_SECONDS


def uses_rq() -> bool:
    """Whether the configured default task backend is the RQ one."""
    backend: str = settings.TASKS["default"]["BACKEND"]
    return backend == f"{RQBackend.__module__}.{RQBackend.__qualname__}"
