"""Database sessions that write one row per sign-in instead of two."""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    """Django's database sessions, but a new key at sign-in is created by the response's save.

    Django's ``cycle_key`` inserts the new session at once and the session middleware then
    updates it when the response goes out; here the old row is deleted and the single insert
    happens at that save. The key still changes at sign-in (no session fixation).
    """

    def cycle_key(self) -> None:
        data = dict(self.items())
        key = self.session_key
        self._session_key = None
        self._session_cache = data
        self.modified = True
        if key:
            self.delete(key)
