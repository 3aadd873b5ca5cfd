"""The sink registered with ``core.notify``: store the notifications, then hand the e-mails
and pushes due now to the worker (the scheduled jobs send them anyway within a minute if the
queue cannot be reached)."""

from __future__ import annotations

import logging
from typing import Any

from convergence.notifications import actions, tasks

logger = logging.getLogger(__name__)


def _enqueue_delivery() -> None:
    try:
        tasks.deliver_notification_mail.enqueue()
    except Exception:  # the queue is down: the scheduled job sends them within a minute
        logger.warning("Notification e-mails left to the scheduled job.", exc_info=True)


def _enqueue_push() -> None:
    try:
        tasks.deliver_notification_push.enqueue()
    except Exception:  # the queue is down: the scheduled job pushes them within a minute
        logger.warning("Notification pushes left to the scheduled job.", exc_info=True)


def sink(
    recipients: list[Any],
    *,
    category: str,
    title: str,
    body: str,
    url: str,
    key: str,
    urgent: bool = False,
) -> int:
    return actions.store(
        recipients,
        category=category,
        title=title,
        body=body,
        url=url,
        key=key,
        urgent=urgent,
        on_due=_enqueue_delivery,
        on_push_due=_enqueue_push,
    )
