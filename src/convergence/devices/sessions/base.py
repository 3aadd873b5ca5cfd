"""What the session engines of "Mes appareils" share: the device record a session carries,
the view of one signed-in session, and the two class methods every engine answers.

A sign-in puts a small device record in the session (``DEVICE_KEY``: address, browser, when
it signed in, when it was last seen); the engine keeps, next to the session itself, the
index of each account's sessions (database columns, or a Redis hash per account). Nothing
else is written, so a sign-in costs the session's own write.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from convergence.core.http import client_ip, user_agent

# The session's device record: {"ip": address, "ua": user agent, "since": sign-in time,
# "seen": last activity}, times as POSIX seconds (sessions are serialised as JSON).
DEVICE_KEY = "_device"


def device_record(
    request: HttpRequest, previous: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The device record of ``request``, keeping the sign-in time of ``previous`` if any."""
    now = timezone.now().timestamp()
    since = (previous or {}).get("since")
    return {
        "ip": client_ip(request),
        "ua": user_agent(request),
        "since": since if isinstance(since, int | float) else now,
        "seen": now,
    }


def record_time(record: Mapping[str, Any], name: str) -> datetime.datetime | None:
    value = record.get(name)
    if not isinstance(value, int | float):
        return None
    return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)


def session_user_id(data: Mapping[str, Any]) -> str | None:
    """The account a session's data signs in to, as Django stores it (a string)."""
    value = data.get(SESSION_KEY)
    return None if value is None else str(value)


def signs_in(data: Mapping[str, Any], user: Any) -> bool:
    """Whether Django would accept this session for ``user``: same account, and the hash of
    its current password (or of one made with a fallback secret key)."""
    if session_user_id(data) != str(user.pk):
        return False
    session_hash = data.get(HASH_SESSION_KEY)
    if not session_hash:
        return False
    if constant_time_compare(session_hash, user.get_session_auth_hash()):
        return True
    return any(
        constant_time_compare(session_hash, fallback)
        for fallback in user.get_session_auth_fallback_hash()
    )


def device_id(session_key: str) -> str:
    """The public name of a session, used in URLs: the key itself is the browser's secret."""
    return salted_hmac("convergence.devices.session", session_key).hexdigest()[:20]


@dataclass(frozen=True)
class SignedInSession:
    """One session of an account, as "Mes appareils" shows it."""

    key: str
    user_id: int
    ip: str | None
    user_agent: str
    created_at: datetime.datetime
    last_seen_at: datetime.datetime
    # Django still accepts it (the account's password has not changed since it signed in).
    valid: bool = True
    current: bool = False

    @property
    def device_id(self) -> str:
        return device_id(self.key)

    @classmethod
    def from_data(
        cls,
        key: str,
        user: Any,
        data: Mapping[str, Any],
        *,
        fallback: Mapping[str, Any] | None = None,
    ) -> SignedInSession:
        """From a session's data; ``fallback`` is a device record known from elsewhere."""
        record = data.get(DEVICE_KEY) or fallback or {}
        now = timezone.now()
        return cls(
            key=key,
            user_id=user.pk,
            ip=record.get("ip") or None,
            user_agent=str(record.get("ua") or ""),
            created_at=record_time(record, "since") or now,
            last_seen_at=record_time(record, "seen") or now,
            valid=signs_in(data, user),
        )


class DeviceSessionsMixin(SessionBase):
    """What a session engine of "Mes appareils" answers, besides being a session store."""

    @classmethod
    def sessions_of(cls, user: Any) -> list[SignedInSession]:
        """Every stored, unexpired session signed in to ``user``'s account (index entries
        whose session is gone are dropped)."""
        raise NotImplementedError

    @classmethod
    def end_sessions(cls, sessions: Sequence[SignedInSession]) -> None:
        """Delete these sessions from the store: their browsers' next requests are anonymous."""
        raise NotImplementedError
