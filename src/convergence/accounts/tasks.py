"""Background work of accounts: the daily purge of expired one-time codes."""

from __future__ import annotations

from django_tasks import task

from convergence.accounts import actions


@task()
def purge_expired_codes() -> int:
    """Delete one-time codes expired for more than a day."""
    return actions.purge_expired_codes()
