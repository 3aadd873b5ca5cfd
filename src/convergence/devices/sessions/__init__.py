"""Session engines that carry "Mes appareils", and the one way to read and end sessions.

``SESSION_ENGINE = "convergence.devices.sessions"`` is the database engine (the embedded
default); ``"convergence.devices.sessions.cache"`` keeps sessions in the cache (Redis).
Either indexes each account's sessions with their devices, so the rest of the portal asks
the configured engine, through ``store()``, and never a table or a cache key.
"""

from __future__ import annotations

import dataclasses
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured

from convergence.devices.sessions.base import DeviceSessionsMixin, SignedInSession
from convergence.devices.sessions.db import SessionStore

__all__ = [
    "SessionStore",
    "SignedInSession",
    "check_session_engine",
    "signed_in_session",
    "signed_in_sessions",
    "store",
]


def store() -> type[DeviceSessionsMixin]:
    """The configured session engine's store; refused if it cannot list an account's
    sessions (a person must see every session to end it)."""
    engine = import_module(settings.SESSION_ENGINE)
    session_store = getattr(engine, "SessionStore", None)
    if not (isinstance(session_store, type) and issubclass(session_store, DeviceSessionsMixin)):
        raise ImproperlyConfigured(
            f"SESSION_ENGINE {settings.SESSION_ENGINE!r} cannot list an account's sessions: "
            "use convergence.devices.sessions or convergence.devices.sessions.cache."
        )
    return session_store


def check_session_engine(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """System check: the session engine lists each account's sessions, atomically."""
    from convergence.devices.sessions.cache import SessionStore as CacheSessionStore
    from convergence.devices.sessions.cache import device_index

    try:
        if issubclass(store(), CacheSessionStore):
            device_index(caches[settings.SESSION_CACHE_ALIAS])
    except ImproperlyConfigured as error:
        return [Error(str(error), id="devices.E001")]
    return []


def signed_in_sessions(user: Any, *, current_key: str | None = None) -> list[SignedInSession]:
    """The sessions that sign in to ``user``'s account, the one of ``current_key`` marked
    and first, then the most recently active.

    Sessions Django would refuse (made before the password last changed) are left out:
    they end at their next request anyway, and the enders (``actions``) take them too.
    """
    sessions = [
        dataclasses.replace(session, current=session.key == current_key)
        for session in store().sessions_of(user)
        if session.valid
    ]
    return sorted(sessions, key=lambda s: (not s.current, -s.last_seen_at.timestamp()))


def signed_in_session(
    user: Any, device_id: str, *, current_key: str | None = None
) -> SignedInSession | None:
    """The session of ``user``'s account named ``device_id`` in "Mes appareils", if any."""
    return next(
        (
            session
            for session in signed_in_sessions(user, current_key=current_key)
            if session.device_id == device_id
        ),
        None,
    )
