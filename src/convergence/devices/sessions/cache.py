"""Cache sessions that carry "Mes appareils": no database row at all.

The session lives in the cache, as with Django's cache engine (same keys, so sessions made
by it stay valid). Each account's sessions are indexed under one cache key: a Redis hash
(session key → device record), changed only by HSET and HDEL, which Redis applies one at a
time, so sign-ins of the same person at the same moment never lose one another's entry.
With the local-memory cache (one process), a lock makes the read-modify-write atomic.
Listing drops the entries whose session is gone (ended, expired or evicted).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from django.conf import settings
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from django.core.cache import BaseCache, InvalidCacheKey, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured

from convergence.devices.sessions.base import (
    DEVICE_KEY,
    DeviceSessionsMixin,
    SignedInSession,
    session_user_id,
)

INDEX_PREFIX = "devices:sessions:"


class DeviceIndex(Protocol):
    """Each account's session keys with their device records, in the sessions' cache."""

    def put(self, user_id: str, session_key: str, record: dict[str, Any], ttl: int) -> None: ...

    def remove(self, user_id: str, session_keys: Iterable[str]) -> None: ...

    def entries(self, user_id: str) -> dict[str, dict[str, Any]]: ...


class RedisDeviceIndex:
    """One Redis hash per account, written by HSET and HDEL only (each atomic)."""

    def __init__(self, cache: RedisCache) -> None:
        self.cache = cache

    def _key(self, user_id: str) -> str:
        return self.cache.make_and_validate_key(INDEX_PREFIX + user_id)

    def _client(self, key: str) -> Any:
        # The writer for reads as well: a replica could lag behind a sign-in just made.
        return self.cache._cache.get_client(key, write=True)

    def put(self, user_id: str, session_key: str, record: dict[str, Any], ttl: int) -> None:
        key = self._key(user_id)
        pipeline = self._client(key).pipeline(transaction=False)
        pipeline.hset(key, session_key, json.dumps(record))
        # The hash outlives its longest session: every save pushes the date back.
        pipeline.expire(key, ttl)
        pipeline.execute()

    def remove(self, user_id: str, session_keys: Iterable[str]) -> None:
        keys = list(session_keys)
        if keys:
            key = self._key(user_id)
            self._client(key).hdel(key, *keys)

    def entries(self, user_id: str) -> dict[str, dict[str, Any]]:
        key = self._key(user_id)
        found = self._client(key).hgetall(key)
        return {_text(field): json.loads(value) for field, value in found.items()}


class LocalDeviceIndex:
    """A dict per account in the local-memory cache; the process's one lock serialises
    every change (that cache is private to the process, so no other process shares it)."""

    _lock = threading.Lock()

    def __init__(self, cache: BaseCache) -> None:
        self.cache = cache

    def put(self, user_id: str, session_key: str, record: dict[str, Any], ttl: int) -> None:
        with self._lock:
            entries = self.cache.get(INDEX_PREFIX + user_id) or {}
            entries[session_key] = record
            self.cache.set(INDEX_PREFIX + user_id, entries, ttl)

    def remove(self, user_id: str, session_keys: Iterable[str]) -> None:
        keys = set(session_keys)
        if not keys:
            return
        with self._lock:
            entries = self.cache.get(INDEX_PREFIX + user_id) or {}
            left = {key: value for key, value in entries.items() if key not in keys}
            if left:
                # Until the latest session could expire: set() needs a timeout.
                self.cache.set(INDEX_PREFIX + user_id, left, settings.SESSION_COOKIE_AGE)
            else:
                self.cache.delete(INDEX_PREFIX + user_id)

    def entries(self, user_id: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return dict(self.cache.get(INDEX_PREFIX + user_id) or {})


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def device_index(cache: BaseCache) -> DeviceIndex:
    """The index for the sessions' cache: Redis, or the local-memory cache of one process."""
    if isinstance(cache, RedisCache):
        return RedisDeviceIndex(cache)
    if isinstance(cache, LocMemCache):
        return LocalDeviceIndex(cache)
    raise ImproperlyConfigured(
        "convergence.devices.sessions.cache needs Django's Redis or local-memory cache: "
        "its index of each account's sessions must be changed atomically."
    )


class SessionStore(DeviceSessionsMixin, CacheSessionStore):
    """Django's cache sessions, each signed-in one indexed under its account."""

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        # The (session key, account, device record) the index is known to hold.
        self._indexed: tuple[str, str, str] | None = None

    @classmethod
    def _index(cls) -> DeviceIndex:
        return device_index(caches[settings.SESSION_CACHE_ALIAS])

    def load(self) -> dict[str, Any]:
        data = self._stored()
        user_id = session_user_id(data)
        # A session written by this store was indexed with its record; one from Django's
        # own cache engine (before the upgrade) has none and is indexed at its next save.
        if user_id is not None and self.session_key and DEVICE_KEY in data:
            self._indexed = (self.session_key, user_id, _entry(data))
        return data

    def _stored(self) -> dict[str, Any]:
        """The session's data, as Django's cache engine reads it, except that a cache that
        cannot be reached raises (the request answers the branded 503, ``core.views``)
        instead of passing for an empty session: the person would be shown the sign-in
        page, as if signed out, while their session is intact."""
        try:
            data: dict[str, Any] | None = caches[settings.SESSION_CACHE_ALIAS].get(self.cache_key)
        except InvalidCacheKey:
            data = None
        if data is not None:
            return data
        self._session_key = None
        return {}

    def save(self, must_create: bool = False) -> None:
        super().save(must_create=must_create)
        data = getattr(self, "_session_cache", None) or {}
        user_id = session_user_id(data)
        if user_id is None or self.session_key is None:
            return
        indexed = (self.session_key, user_id, _entry(data))
        if indexed != self._indexed:
            record = data.get(DEVICE_KEY) or {}
            # Other saves (single sign-on, reauthentication) push the session's own expiry
            # back without a new device record; the index is refreshed at least once per
            # activity interval, so it lives that much longer than the session can.
            ttl = max(self.get_expiry_age(), settings.SESSION_COOKIE_AGE)
            ttl += settings.SESSION_ACTIVITY_SECONDS
            self._index().put(user_id, self.session_key, record, ttl)
            self._indexed = indexed

    def cycle_key(self) -> None:
        # Django's, with the old key taken out of the index of the account it signed in to.
        data = dict(self.items())
        key = self.session_key
        self.create()
        self._session_cache = data
        if key:
            self._forget(key, session_user_id(data))

    def flush(self) -> None:
        # Django's clear() empties the data before delete(): the account is read first.
        user_id = session_user_id(dict(self.items())) if self.session_key else None
        self.clear()
        if self.session_key:
            self._forget(self.session_key, user_id)
        self._session_key = None
        self._indexed = None

    def delete(self, session_key: str | None = None) -> None:
        key = session_key or self.session_key
        if key is None:
            return
        loaded = getattr(self, "_session_cache", None)
        if key != self.session_key or loaded is None:
            loaded = caches[settings.SESSION_CACHE_ALIAS].get(self.cache_key_prefix + key) or {}
        self._forget(key, session_user_id(loaded))

    def _forget(self, key: str, user_id: str | None) -> None:
        super().delete(key)
        if user_id is not None:
            self._index().remove(user_id, [key])
        if self._indexed is not None and self._indexed[0] == key:
            self._indexed = None

    @classmethod
    def sessions_of(cls, user: Any) -> list[SignedInSession]:
        user_id = str(user.pk)
        index = cls._index()
        entries = index.entries(user_id)
        if not entries:
            return []
        cache = caches[settings.SESSION_CACHE_ALIAS]
        found = cache.get_many([cls.cache_key_prefix + key for key in entries])
        sessions, gone = [], []
        for key, record in entries.items():
            data = found.get(cls.cache_key_prefix + key)
            if data is None or session_user_id(data) != user_id:
                gone.append(key)
            else:
                sessions.append(SignedInSession.from_data(key, user, data, fallback=record))
        index.remove(user_id, gone)
        return sessions

    @classmethod
    def end_sessions(cls, sessions: Sequence[SignedInSession]) -> None:
        if not sessions:
            return
        cache = caches[settings.SESSION_CACHE_ALIAS]
        cache.delete_many([cls.cache_key_prefix + session.key for session in sessions])
        by_account: dict[str, list[str]] = {}
        for session in sessions:
            by_account.setdefault(str(session.user_id), []).append(session.key)
        index = cls._index()
        for user_id, keys in by_account.items():
            index.remove(user_id, keys)


def _entry(data: dict[str, Any]) -> str:
    return json.dumps(data.get(DEVICE_KEY) or {}, sort_keys=True)
