"""Background work of audit: the daily purge of entries past their retention time."""

from __future__ import annotations

from django_tasks import task

from convergence.audit import actions


@task()
def purge_old_audit_events() -> int:
    """Delete audit entries older than the audit retention time."""
    return actions.purge_old_audit_events()
