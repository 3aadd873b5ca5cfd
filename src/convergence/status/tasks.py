"""Background work of service status: rounds of probes, the daily purge, the subscribers'
messages."""

from __future__ import annotations

from django_tasks import task

from convergence.status import notify, probing, retention


@task()
def run_probes() -> int:
    """Check every due probe once; how many changed state."""
    return len(probing.run_round())


@task()
def purge_old_results() -> int:
    """Drop raw results past seven days and hourly aggregates past ninety."""
    return retention.purge()


@task()
def tell_subscribers(kind: str, object_id: int) -> int:
    return notify.send(kind, object_id)
