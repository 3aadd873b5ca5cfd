"""Keeps "Mes appareils" up to date without writing on every request.

A session's device record (address, browser, last activity: ``devices.sessions``) is
refreshed at most once per ``SESSION_ACTIVITY_SECONDS`` per session; the shared cache
(``cache.add`` is atomic) remembers that a session was seen recently. Refreshing changes the
session, which the session middleware then saves once with the response: with database
sessions one UPDATE of its row, with cache sessions the cache alone. "Dernière activité" is
therefore exact to that many seconds (docs/performance.md).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from convergence.core.http import session_user_pk
from convergence.devices.sessions.base import DEVICE_KEY, device_record

logger = logging.getLogger(__name__)


def seen_key(session_key: str) -> str:
    """Cache key marking a session as seen recently; the session key itself is not stored."""
    return "devices:seen:" + hashlib.sha256(session_key.encode()).hexdigest()[:32]


class DeviceActivityMiddleware:
    """Record a session's address, browser and last activity, at most once per interval.

    The account is not loaded for it (``core.http.session_user_pk``): a page that does not
    use the account costs no query here. With the cache down the refresh is skipped (the
    last activity shown is older), never the page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if (
            session is not None
            and session.session_key
            and session_user_pk(request) is not None
            and self._due(session.session_key)
        ):
            session[DEVICE_KEY] = device_record(request, session.get(DEVICE_KEY))
        return self.get_response(request)

    @staticmethod
    def _due(session_key: str) -> bool:
        try:
            return bool(cache.add(seen_key(session_key), 1, settings.SESSION_ACTIVITY_SECONDS))
        except Exception:  # the cache backend's own errors (Redis down)
            logger.warning("Cache unreachable: the session's activity is not recorded.")
            return False
