"""Database sessions that carry "Mes appareils": one row per session, inserted once at sign-in.

The row is ``devices.DeviceSession``: Django's session columns and the account, address,
browser and times of its device record, written by the same INSERT or UPDATE.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone
from django.utils.crypto import get_random_string

from convergence.devices.models import DeviceSession
from convergence.devices.sessions.base import (
    DEVICE_KEY,
    DeviceSessionsMixin,
    SignedInSession,
    record_time,
    session_user_id,
    signs_in,
)


def _random_key() -> str:
    return get_random_string(32, VALID_KEY_CHARS)


# A new key that collides is retried a few times; more means something else refuses the
# row (its account deleted meanwhile), and retrying would not help.
INSERT_ATTEMPTS = 3


class SessionStore(DeviceSessionsMixin, DatabaseSessionStore):
    """Django's database sessions in ``DeviceSession``; a new key at sign-in is inserted by
    the response's save.

    Django's ``cycle_key`` inserts the new session at once and the session middleware then
    updates it when the response goes out; here the old row is deleted, the new key is drawn
    and the single insert happens at that save (the primary key refuses a taken one). The key still
    changes at sign-in (no session fixation).
    """

    _insert_pending = False

    @classmethod
    def get_model_class(cls) -> type[DeviceSession]:
        return DeviceSession

    def create_model_instance(self, data: dict[str, Any]) -> DeviceSession:
        session = cast(DeviceSession, super().create_model_instance(data))
        user_id = session_user_id(data)
        record = data.get(DEVICE_KEY) or {}
        now = timezone.now()
        session.user_id = int(user_id) if user_id is not None else None
        session.ip = record.get("ip") or None
        session.user_agent = str(record.get("ua") or "")
        session.created_at = record_time(record, "since") or now
        session.last_seen_at = record_time(record, "seen") or now
        return session

    def load(self) -> dict[str, Any]:
        row = self._get_session_from_db()  # type: ignore[attr-defined]
        if row is None:
            return {}
        data: dict[str, Any] = self.decode(row.session_data)
        if SESSION_KEY in data and DEVICE_KEY not in data and row.user_id is not None:
            # A session copied from before "Mes appareils" lived here (devices 0002): its
            # device is only in the columns, which the next save would otherwise blank.
            data[DEVICE_KEY] = {
                "ip": row.ip,
                "ua": row.user_agent,
                "since": row.created_at.timestamp(),
                "seen": row.last_seen_at.timestamp(),
            }
        return data

    def cycle_key(self) -> None:
        data = dict(self.items())
        key = self.session_key
        # Not Django's _get_new_session_key, which asks the database whether the key is
        # free: the single INSERT at the response is the check (a taken key, one chance in
        # 36^32, is refused by the primary key and another one drawn).
        self._session_key = _random_key()
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
            for _attempt in range(INSERT_ATTEMPTS):
                try:
                    super().save(must_create=True)
                    return
                except CreateError:
                    # Taken (32 random characters: practically never).
                    self._session_key = _random_key()
            raise CreateError
        super().save(must_create=must_create)

    @classmethod
    def sessions_of(cls, user: Any) -> list[SignedInSession]:
        store = cls()
        return [
            SignedInSession(
                key=row.session_key,
                user_id=user.pk,
                ip=row.ip,
                user_agent=row.user_agent,
                created_at=row.created_at,
                last_seen_at=row.last_seen_at,
                valid=signs_in(store.decode(row.session_data), user),
            )
            for row in DeviceSession.objects.signed_in_as(user)
        ]

    @classmethod
    def end_sessions(cls, sessions: Sequence[SignedInSession]) -> None:
        if sessions:
            DeviceSession.objects.filter(session_key__in=[s.key for s in sessions]).delete()
