"""Keeps "Mes appareils" up to date without writing to the database on every request.

allauth's ``UserSessionsMiddleware`` (with ``USERSESSIONS_TRACK_ACTIVITY``) reads and
updates the ``UserSession`` row of a signed-in session on *every* request: a SELECT and an
UPDATE in a savepoint, four queries added to each page. This middleware takes its place and
does the same at most once per ``SESSION_ACTIVITY_SECONDS`` per session; the shared cache
(``cache.add`` is atomic) remembers that a session was seen recently. "Dernière activité" is
therefore exact to that many seconds (docs/performance.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse


def seen_key(session_key: str) -> str:
    """Cache key marking a session as seen recently; the session key itself is not stored."""
    return "usersessions:seen:" + hashlib.sha256(session_key.encode()).hexdigest()[:32]


class UserSessionsMiddleware:
    """Record a session's address, browser and last activity, at most once per interval."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        user = getattr(request, "user", None)
        if (
            session is not None
            and session.session_key
            and user is not None
            and user.is_authenticated
            and cache.add(seen_key(session.session_key), 1, settings.SESSION_ACTIVITY_SECONDS)
        ):
            UserSession.objects.create_from_request(request, user=user, session=session)
        return self.get_response(request)
