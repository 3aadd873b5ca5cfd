"""The bell's unread count, cheap enough to be asked every 30 seconds by every open page.

Two cache entries per person, shared by every process through the cache (Redis in
production): a *version*, replaced by a random token after every change to the person's
notifications (once the change is committed), and the count stored under that version. A
check reads the version, then the count under it: two cache reads, no database, as long as
nothing changed. A count computed from a database state that was already outdated is stored
under the old version, which nobody asks for again, so it cannot stick. A cache that does
not answer costs one indexed count in the database, never an error.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from django.core.cache import caches
from django.db import transaction

from convergence.notifications.models import Notification

logger = logging.getLogger(__name__)

VERSION_TIMEOUT = 24 * 3600
# A count outlives no change, but a version lost with a cache that failed at the wrong moment
# would keep an old count: it is recomputed every ten minutes at worst.
COUNT_TIMEOUT = 600


def _version_key(person_pk: int) -> str:
    return f"notifications:version:{person_pk}"


def _count_key(person_pk: int, version: str) -> str:
    return f"notifications:unread:{person_pk}:{version}"


def _count_from_database(person_pk: int) -> int:
    return Notification.objects.filter(recipient_id=person_pk, read_at__isnull=True).count()


def unread(person_pk: int) -> tuple[int, str]:
    """The person's unread count and the version it belongs to (the ETag's ingredient)."""
    try:
        version = caches["shared"].get(_version_key(person_pk))
        if version is None:
            version = uuid.uuid4().hex
            if not caches["shared"].add(_version_key(person_pk), version, VERSION_TIMEOUT):
                version = caches["shared"].get(_version_key(person_pk)) or version
        count = caches["shared"].get(_count_key(person_pk, version))
        if count is None:
            count = _count_from_database(person_pk)
            caches["shared"].set(_count_key(person_pk, version), count, COUNT_TIMEOUT)
        return int(count), str(version)
    except Exception:  # the cache is down: the database answers, nothing is kept
        logger.warning("Unread notifications: the cache does not answer.", exc_info=True)
        return _count_from_database(person_pk), ""


def changed(person_pks: Iterable[int]) -> None:
    """The notifications of these people changed: new versions, once the change is
    committed (a reader in between would otherwise keep the old count under the new one)."""
    pks = list(set(person_pks))

    def bump() -> None:
        try:
            caches["shared"].set_many(
                {_version_key(pk): uuid.uuid4().hex for pk in pks}, VERSION_TIMEOUT
            )
        except Exception:
            logger.warning("Unread notifications: cannot reach the cache.", exc_info=True)

    if pks:
        transaction.on_commit(bump)
