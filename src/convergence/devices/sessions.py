"""Database sessions that write one row per sign-in instead of two."""

from __future__ import annotations

from django.contrib.sessions.backends.base import CreateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    """Django's database sessions, but a new key at sign-in is inserted by the response's save.

    Django's ``cycle_key`` inserts the new session at once and the session middleware then
    updates it when the response goes out; here the old row is deleted, the new key is chosen
    (one SELECT checks it is free: "Mes appareils" records the session under its key during
    sign-in) and the single insert happens at that save. The key still changes at sign-in
    (no session fixation).
    """

    _insert_pending = False

    def cycle_key(self) -> None:
        data = dict(self.items())
        key = self.session_key
        self._session_key = self._get_new_session_key()  # type: ignore[attr-defined]
        self._session_cache = data
        self._insert_pending = True
        self.modified = True
        if key:
            self.delete(key)

    def create(self) -> None:
        self._insert_pending = False
        super().create()

    def save(self, must_create: bool = False) -> None:
        if self._insert_pending and self.session_key is not None:
            self._insert_pending = False
            try:
                super().save(must_create=True)
            except CreateError:
                # Taken between the check and now (32 random characters: practically never).
                self.create()
            return
        super().save(must_create=must_create)
