"""Tasks queued by the previous release, not started yet, point at their new modules.

The database queue stores each task by its dotted path; the split of accounts moved eight of
them. Without this, a letter batch or a school-year closing waiting in the queue during the
upgrade would fail to import in the worker. Finished tasks keep their history as it was.
"""

from typing import Any

from django.db import migrations

MOVED = {
    "convergence.accounts.actions.imports.run_import": (
        "convergence.provisioning.actions.imports.run_import"
    ),
    "convergence.accounts.letters.generate_letter_batch": (
        "convergence.provisioning.letters.generate_letter_batch"
    ),
    "convergence.accounts.tasks.purge_departed_accounts": (
        "convergence.provisioning.tasks.purge_departed_accounts"
    ),
    "convergence.accounts.tasks.purge_old_audit_events": (
        "convergence.audit.tasks.purge_old_audit_events"
    ),
    "convergence.accounts.tasks.purge_stale_letter_files": (
        "convergence.provisioning.tasks.purge_stale_letter_files"
    ),
    "convergence.accounts.tasks.purge_single_sign_on": (
        "convergence.sso.tasks.purge_single_sign_on"
    ),
    "convergence.accounts.tasks.clear_expired_sessions": (
        "convergence.devices.tasks.clear_expired_sessions"
    ),
    "convergence.accounts.tasks.close_school_year": (
        "convergence.provisioning.tasks.close_school_year"
    ),
}
WAITING = ("READY",)


def _move(apps: Any, mapping: dict[str, str]) -> None:
    result = apps.get_model("django_tasks_database", "DBTaskResult")
    for old, new in mapping.items():
        result.objects.filter(task_path=old, status__in=WAITING).update(task_path=new)


def forward(apps: Any, schema_editor: Any) -> None:
    _move(apps, MOVED)


def backward(apps: Any, schema_editor: Any) -> None:
    _move(apps, {new: old for old, new in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_move_models_to_their_apps"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(forward, backward)]
