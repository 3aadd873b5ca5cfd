"""Reactions of the status app to changes made elsewhere than through its actions.

A probe or a busy period saved or deleted in the administration rebuilds the status
snapshot once the change is committed, so the pages show the new probe (or lose the old one)
without waiting for the worker's next round. The administration announces its changes with
``core.signals.admin_changed`` (sent by ``AuditedModelAdmin``); the worker's own writes of a
probe's running state do not go through it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from convergence.core.signals import admin_changed
from convergence.status import snapshot
from convergence.status.models import PeakPeriod, Probe


def _refresh() -> None:
    snapshot.refresh()


def refresh_after_admin_change(sender: Any, **kwargs: Any) -> None:
    transaction.on_commit(_refresh)


def connect() -> None:
    """Called once from ``StatusConfig.ready``."""
    for model in (Probe, PeakPeriod):
        admin_changed.connect(
            refresh_after_admin_change,
            sender=model,
            dispatch_uid=f"status_snapshot_after_admin_{model._meta.model_name}",
        )
