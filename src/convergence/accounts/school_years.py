"""Which school year is open: the one the DSI opened when closing the previous one (rentrée).

``models.current_school_year()`` delegates here. Before any year was ever closed there is no
open ``SchoolYear`` row, and the year follows the calendar (it turns on 1 September).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.cache import cache
from django.utils import timezone

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from .models import User

CACHE_KEY = "accounts:open-school-year"
CACHE_SECONDS = 60


def next_school_year(year: str) -> str:
    """The year after ``year`` ("2026-2027" → "2027-2028")."""
    start = int(year[:4]) + 1
    return f"{start}-{start + 1}"


def open_school_year() -> str:
    """The latest school year opened and not closed; else the calendar's (cached 60 s)."""
    year = cache.get(CACHE_KEY)
    if isinstance(year, str):
        return year
    # Imported here: models.current_school_year() imports this module lazily, and the model
    # module must not depend on it at import time.
    from .models import SchoolYear, school_year_of

    name = (
        SchoolYear.objects.filter(closed_at__isnull=True)
        .order_by("-name")
        .values_list("name", flat=True)
        .first()
    )
    year = name or school_year_of(timezone.localdate())
    cache.set(CACHE_KEY, year, CACHE_SECONDS)
    return year


def forget_open_school_year() -> None:
    """Drop the cached answer (after a year is closed or opened)."""
    cache.delete(CACHE_KEY)


def leavers_of(year: str, *, keep: User | None = None) -> QuerySet[User]:
    """Accounts that leave when ``year`` closes: a role in ``year``, none in the next one.

    A parent stays while one of their children has a role next year. Archived accounts are
    not counted again; ``keep`` (the person closing the year) is never a leaver.
    """
    from .models import AccountState, Assignment, Guardianship, User

    following = Assignment.objects.filter(school_year=next_school_year(year)).values("user")
    staying_parents = Guardianship.objects.filter(pupil__in=following).values("parent")
    leavers = (
        User.objects.filter(pk__in=Assignment.objects.filter(school_year=year).values("user"))
        .exclude(pk__in=following)
        .exclude(pk__in=staying_parents)
        .exclude(state=AccountState.ARCHIVED)
    )
    if keep is not None:
        leavers = leavers.exclude(pk=keep.pk)
    return leavers
