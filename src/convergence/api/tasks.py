"""Background work of the API: the daily purge of the answers kept for idempotency."""

from __future__ import annotations

from django_tasks import task

from convergence.api import actions


@task()
def purge_idempotent_requests() -> int:
    """Delete the answers kept for idempotency past their day."""
    return actions.purge_idempotent_requests()
