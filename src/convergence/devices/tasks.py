"""Background work of devices: the daily deletion of expired portal sessions."""

from __future__ import annotations

import contextlib
from importlib import import_module

from django.conf import settings
from django_tasks import task


@task()
def clear_expired_sessions() -> None:
    """Delete expired portal sessions (Django's ``clearsessions``)."""
    engine = import_module(settings.SESSION_ENGINE)
    # Engines that expire on their own (cache, signed cookies) have nothing to clear.
    with contextlib.suppress(NotImplementedError):
        engine.SessionStore.clear_expired()
