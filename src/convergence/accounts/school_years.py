"""The rentrée seen from accounts: the year after an open one, and who leaves when it closes.

Which year is open is ``models.current_school_year()``.
"""

from __future__ import annotations

from django.db.models import QuerySet

from convergence.accounts.models import AccountState, Assignment, Guardianship, User


def next_school_year(year: str) -> str:
    """The year after ``year`` ("2026-2027" → "2027-2028")."""
    start = int(year[:4]) + 1
    return f"{start}-{start + 1}"


def leavers_of(year: str, *, keep: User | None = None) -> QuerySet[User]:
    """Accounts that leave when ``year`` closes: a role in ``year``, none in the next one.

    A parent stays while one of their children has a role next year. Archived accounts are
    not counted again; ``keep`` (the person closing the year) is never a leaver.
    """
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
