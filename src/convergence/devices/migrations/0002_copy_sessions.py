"""Sessions open before the upgrade stay open and listed in "Mes appareils".

Until this release sessions were Django's (``django_session``, or the cache) and their
devices allauth's ``usersessions_usersession`` rows. Database sessions are copied into
``devices_devicesession`` with the account their data signs in to and the device of their
usersessions row; with cache sessions (``convergence.devices.sessions.cache``), each
signed-in session gets its device record and enters its account's index. Both old tables
are only read (raw SQL, as their apps may no longer be installed) and left as they were.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.utils import timezone
from django.utils.dateparse import parse_datetime

logger = logging.getLogger(__name__)

BATCH = 500
CACHE_ENGINE = "convergence.devices.sessions.cache"
DEVICE_KEY = "_device"  # devices.sessions.base.DEVICE_KEY at the time of this migration


def _aware(value: Any) -> datetime.datetime | None:
    if isinstance(value, str):
        value = parse_datetime(value)
    if not isinstance(value, datetime.datetime):
        return None
    return value.replace(tzinfo=datetime.UTC) if timezone.is_naive(value) else value


def _devices(connection: Any, tables: set[str]) -> dict[str, dict[str, Any]]:
    """The usersessions rows by session key."""
    if "usersessions_usersession" not in tables:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT session_key, user_id, ip, user_agent, created_at, last_seen_at "
            "FROM usersessions_usersession"
        )
        return {
            key: {
                "user_id": user_id,
                "ip": ip or None,
                "user_agent": (user_agent or "")[:300],
                "created_at": _aware(created_at),
                "last_seen_at": _aware(last_seen_at),
            }
            for key, user_id, ip, user_agent, created_at, last_seen_at in cursor.fetchall()
        }


def _copy_database_sessions(
    apps: StateApps, connection: Any, tables: set[str], devices: dict[str, dict[str, Any]]
) -> None:
    if "django_session" not in tables:
        return
    device_session = apps.get_model("devices", "DeviceSession")
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    decoder = DjangoSessionStore()
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT session_key, session_data, expire_date FROM django_session")
        found = cursor.fetchall()
    sessions = []
    for key, data, expire_date in found:
        expires = _aware(expire_date)
        if expires is None or expires <= now:
            continue
        user_id = decoder.decode(data).get(SESSION_KEY)
        sessions.append((key, data, expires, int(user_id) if user_id is not None else None))
    wanted = sorted({user_id for *_, user_id in sessions if user_id is not None})
    existing: set[int] = set()
    for start in range(0, len(wanted), BATCH):  # within every SQLite's parameter limit
        chunk = wanted[start : start + BATCH]
        existing.update(
            user_model._default_manager.filter(pk__in=chunk).values_list("pk", flat=True)
        )
    rows = []
    for key, data, expires, user_id in sessions:
        device = devices.get(key, {})
        rows.append(
            device_session(
                session_key=key,
                session_data=data,
                expire_date=expires,
                user_id=user_id if user_id in existing else None,
                ip=device.get("ip"),
                user_agent=device.get("user_agent", ""),
                created_at=device.get("created_at") or now,
                last_seen_at=device.get("last_seen_at") or now,
            )
        )
    device_session._default_manager.bulk_create(rows, batch_size=BATCH, ignore_conflicts=True)


def _index_cache_sessions(devices: dict[str, dict[str, Any]]) -> None:
    # Today's store, not a historical model: the index lives in the cache, which has no
    # migration state, and this store is the code that reads it.
    from convergence.devices.sessions.cache import SessionStore

    for key, device in devices.items():
        store = SessionStore(key)
        if store.get(SESSION_KEY) is None or DEVICE_KEY in store:
            continue  # gone, or already recorded by the new code
        store[DEVICE_KEY] = {
            "ip": device["ip"],
            "ua": device["user_agent"],
            "since": (device["created_at"] or timezone.now()).timestamp(),
            "seen": (device["last_seen_at"] or timezone.now()).timestamp(),
        }
        store.save()


def copy_sessions(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    connection = schema_editor.connection
    tables = set(connection.introspection.table_names())
    devices = _devices(connection, tables)
    _copy_database_sessions(apps, connection, tables, devices)
    if settings.SESSION_ENGINE == CACHE_ENGINE and devices:
        try:
            _index_cache_sessions(devices)
        except Exception:
            # The cache is unreachable: each session is indexed at its next request instead.
            logger.warning("Cache sessions not indexed during the upgrade", exc_info=True)


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(copy_sessions, migrations.RunPython.noop, elidable=True),
    ]
