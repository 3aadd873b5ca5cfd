"""Announcements, the reading side: who an announcement reaches (its audience as one
QuerySet of accounts), what a person currently has, and the dashboard's board with its cheap
version.

The audience (docs/announcements.md):

* an establishment: the people holding one of the chosen roles there this school year (every
  role when none is chosen); chosen classes narrow its pupils to those divisions;
* departments (rectorat): the same in every establishment of those departments;
* everyone (rectorat): every role in every establishment;
* parents are never reached through their own assignments but through the pupils in the
  audience: the legal guardians of the targeted pupils (of the chosen classes, if any);
* only active accounts.

The board (« Annonces » on the dashboard) is kept in the cache under two versions: a global
one, replaced when a fan-out finishes or an announcement is withdrawn, and the person's own,
replaced when they acknowledge one. Its ETag is a digest of what it shows, so the fragment
polled every 30 s answers 304 from two or three cache reads, without any query.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import uuid
from dataclasses import dataclass

from django.core.cache import caches
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from convergence.accounts.models import (
    AccountState,
    Assignment,
    AssignmentQuerySet,
    Guardianship,
    Role,
    User,
    UserQuerySet,
)
from convergence.portal.models import Announcement, AnnouncementRecipient, AnnouncementState

logger = logging.getLogger(__name__)

GLOBAL_VERSION_KEY = "portal:announcements:version"
VERSION_TIMEOUT = 24 * 3600
BOARD_TIMEOUT = 600
# The most announcements the board shows (the list page has them all).
BOARD_SIZE = 5
STAFF_ROLE_VALUES = frozenset(Role.values) - {Role.ELEVE.value, Role.PARENT.value}


def _places(announcement: Announcement) -> AssignmentQuerySet:
    current = Assignment.objects.current()
    if announcement.everyone:
        return current
    if announcement.establishment_id is not None:
        return current.filter(establishment_id=announcement.establishment_id)
    return current.filter(establishment__department__in=announcement.departments.values("pk"))


def audience_of(announcement: Announcement) -> UserQuerySet:
    """The active accounts ``announcement`` reaches (one query when evaluated)."""
    places = _places(announcement)
    roles = set(announcement.roles or []) if not announcement.everyone else set()
    every_role = not roles
    pupils = places.filter(role=Role.ELEVE)
    if announcement.divisions and announcement.establishment_id is not None:
        pupils = pupils.filter(division__in=list(announcement.divisions))
    reached = Q(pk__in=[])
    staff = sorted(STAFF_ROLE_VALUES if every_role else roles & STAFF_ROLE_VALUES)
    if staff:
        reached |= Q(pk__in=places.filter(role__in=staff).values("user"))
    if every_role or Role.ELEVE in roles:
        reached |= Q(pk__in=pupils.values("user"))
    if every_role or Role.PARENT in roles:
        reached |= Q(
            pk__in=Guardianship.objects.filter(pupil__in=pupils.values("user")).values("parent")
        )
    return User.objects.get_queryset().filter(reached, state=AccountState.ACTIVE)


def divisions_of(establishment_ids: list[int]) -> dict[int, list[str]]:
    """The classes of each establishment this school year (its pupils' divisions), sorted."""
    found: dict[int, set[str]] = {pk: set() for pk in establishment_ids}
    rows = (
        Assignment.objects.current()
        .filter(establishment_id__in=establishment_ids, role=Role.ELEVE)
        .exclude(division="")
        .values_list("establishment_id", "division")
        .distinct()
    )
    for establishment_id, division in rows:
        found[establishment_id].add(division)
    return {pk: sorted(divisions) for pk, divisions in found.items()}


def receipts_of(
    user: User, *, now: datetime.datetime | None = None
) -> QuerySet[AnnouncementRecipient]:
    """The person's receipts of current announcements, those still to acknowledge first,
    then the newest."""
    moment = now or timezone.now()
    return (
        AnnouncementRecipient.objects.filter(
            person=user,
            announcement__state=AnnouncementState.PUBLISHED,
            announcement__publish_at__lte=moment,
        )
        .filter(Q(announcement__expires_at__isnull=True) | Q(announcement__expires_at__gt=moment))
        .select_related("announcement")
        .order_by("acknowledged_at", "-announcement__publish_at", "-announcement_id")
    )


def pending_first(receipts: list[AnnouncementRecipient]) -> list[AnnouncementRecipient]:
    """Announcements asking an acknowledgement not yet given first, the rest after."""
    return sorted(
        receipts,
        key=lambda receipt: (
            not (receipt.announcement.requires_ack and receipt.acknowledged_at is None)
        ),
    )


# --- the board's versions -----------------------------------------------------------------------


def _person_key(person_pk: int) -> str:
    return f"portal:announcements:person:{person_pk}"


def _bump(keys: list[str]) -> None:
    def bump() -> None:
        try:
            caches["shared"].set_many({key: uuid.uuid4().hex for key in keys}, VERSION_TIMEOUT)
        except Exception:
            logger.warning("Announcements board: cannot reach the cache.", exc_info=True)

    transaction.on_commit(bump)


def announcements_changed() -> None:
    """What every board shows may have changed (a fan-out finished, a withdrawal): a new
    global version once committed."""
    _bump([GLOBAL_VERSION_KEY])


def receipts_changed(person_pk: int) -> None:
    """The person's acknowledgements changed: a new version of their board once committed."""
    _bump([_person_key(person_pk)])


@dataclass(frozen=True)
class BoardItem:
    pk: int
    title: str
    publish_at: datetime.datetime
    requires_ack: bool
    acknowledged_at: datetime.datetime | None

    @property
    def pending(self) -> bool:
        return self.requires_ack and self.acknowledged_at is None


@dataclass(frozen=True)
class Board:
    """What the dashboard's « Annonces » block shows, and its ETag."""

    items: tuple[BoardItem, ...]
    total: int
    etag: str
    # The first expiry among the announcements shown: the board is recomputed after it.
    valid_until: datetime.datetime | None


def _compute(person_pk: int, now: datetime.datetime) -> Board:
    receipts = pending_first(list(receipts_of(User(pk=person_pk), now=now)))
    items = tuple(
        BoardItem(
            pk=receipt.announcement_id,
            title=receipt.announcement.title,
            publish_at=receipt.announcement.publish_at or now,
            requires_ack=receipt.announcement.requires_ack,
            acknowledged_at=receipt.acknowledged_at,
        )
        for receipt in receipts
    )
    expiries = [r.announcement.expires_at for r in receipts if r.announcement.expires_at]
    digest = hashlib.sha256(repr(items).encode()).hexdigest()[:20]
    return Board(
        items=items[:BOARD_SIZE],
        total=len(items),
        etag=f'"a{digest}"',
        valid_until=min(expiries) if expiries else None,
    )


def board_of(user: User, *, now: datetime.datetime | None = None, fresh: bool = False) -> Board:
    """The person's board, from the cache while neither version changed and nothing shown
    expired; one query otherwise. A cache that does not answer costs that query. ``fresh``:
    from the database, for the answer to the person's own change (its new version is set
    only once the change is committed)."""
    moment = now or timezone.now()
    if fresh:
        return _compute(user.pk, moment)
    person_key = _person_key(user.pk)
    try:
        versions = caches["shared"].get_many([GLOBAL_VERSION_KEY, person_key])
        for key in (GLOBAL_VERSION_KEY, person_key):
            if key not in versions:
                fresh_version = uuid.uuid4().hex
                if not caches["shared"].add(key, fresh_version, VERSION_TIMEOUT):
                    fresh_version = caches["shared"].get(key) or fresh_version
                versions[key] = fresh_version
        board_key = (
            f"portal:announcements:board:{user.pk}:"
            f"{versions[GLOBAL_VERSION_KEY]}:{versions[person_key]}"
        )
        board = caches["shared"].get(board_key)
        if isinstance(board, Board) and (board.valid_until is None or board.valid_until > moment):
            return board
        board = _compute(user.pk, moment)
        caches["shared"].set(board_key, board, BOARD_TIMEOUT)
        return board
    except Exception:  # the cache is down: the database answers, nothing is kept
        logger.warning("Announcements board: the cache does not answer.", exc_info=True)
        return _compute(user.pk, moment)
