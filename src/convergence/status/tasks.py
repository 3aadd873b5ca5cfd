"""Background work of service status: rounds of probes and the daily purge (the subscribers'
messages are ``notify.deliver``)."""

from __future__ import annotations

from django_tasks import task

from convergence.status import probing, retention


@task()
def run_probes() -> int:
    """Check every due probe once; how many changed state."""
    return len(probing.run_round())


@task()
def purge_old_results() -> int:
    """Drop raw results past seven days and hourly aggregates past ninety."""
    return retention.purge()
