"""Whom a person may call: their audience (roles, profiles, departments this school year)
and the contacts serving it, with the référents numériques of their établissements."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Prefetch

from convergence.accounts.models import Assignment, Role, User, profile_of_role
from convergence.core import fragments
from convergence.support.hours import Schedule
from convergence.support.models import OpeningException, OpeningHours, SupportContact

logger = logging.getLogger(__name__)

VERSION = "support-contacts"
CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Audience:
    roles: frozenset[str]
    department_ids: frozenset[int]
    establishment_ids: frozenset[int]

    @property
    def profiles(self) -> frozenset[str]:
        return frozenset(profile_of_role(role).value for role in self.roles)

    def key(self) -> str:
        parts = f"{sorted(self.roles)}|{sorted(self.department_ids)}"
        return hashlib.sha256(parts.encode()).hexdigest()[:24]


def audience_of(user: Any) -> Audience:
    """The roles held this school year and the establishments and departments they are
    held in (one indexed query)."""
    rows = list(
        Assignment.objects.current()
        .filter(user=user)
        .values_list("role", "establishment_id", "establishment__department_id")
    )
    return Audience(
        roles=frozenset(role for role, _, _ in rows),
        department_ids=frozenset(department for _, _, department in rows if department),
        establishment_ids=frozenset(establishment for _, establishment, _ in rows),
    )


def _with_hours(queryset: Any) -> Any:
    return queryset.select_related("department").prefetch_related(
        Prefetch("hours", queryset=OpeningHours.objects.order_by("weekday", "opens")),
        Prefetch("exceptions", queryset=OpeningException.objects.order_by("first_day")),
    )


def contacts_for(audience: Audience) -> list[SupportContact]:
    """The contacts serving ``audience``, hours and exceptions prefetched (three queries)."""
    return list(
        _with_hours(
            SupportContact.objects.serving(
                roles=set(audience.roles),
                profiles=set(audience.profiles),
                department_ids=set(audience.department_ids),
            )
        )
    )


def all_contacts() -> list[SupportContact]:
    return list(_with_hours(SupportContact.objects.all()))


@dataclass(frozen=True)
class Summary:
    """What the dashboard widget needs of a contact, kept in the cache."""

    name: str
    department: str
    phone: str
    schedule: Schedule


def summaries_for(audience: Audience) -> list[Summary]:
    """The contacts of ``audience`` as cached summaries, shared by everyone with the same
    roles and departments; any change to a contact replaces the version (``changed``)."""
    key = f"support:summaries:{fragments.versions(VERSION)[0]}:{audience.key()}"
    try:
        found: list[Summary] | None = cache.get(key)
    except Exception:
        found = None
    if found is None:
        found = [
            Summary(
                name=contact.name,
                department=contact.department.name if contact.department else "",
                phone=contact.phone,
                schedule=Schedule.of(contact),
            )
            for contact in contacts_for(audience)
        ]
        try:
            cache.set(key, found, CACHE_SECONDS)
        except Exception:
            logger.warning("Cache unreachable: the support contacts were not stored.")
    return found


def changed() -> None:
    """Forget every cached summary (a contact, its hours or exceptions changed)."""
    fragments.bump(VERSION)


@dataclass(frozen=True)
class Referent:
    name: str
    establishment: str


def referents_at(establishment_ids: frozenset[int], *, besides: Any = None) -> list[Referent]:
    """The active référents numériques of these establishments this year (one query)."""
    if not establishment_ids:
        return []
    holders = User.objects.holding_role_at(Role.REFERENT, establishment_ids)
    if besides is not None:
        holders = holders.exclude(pk=besides.pk)
    rows = (
        Assignment.objects.current()
        .filter(role=Role.REFERENT, establishment_id__in=establishment_ids, user__in=holders)
        .order_by("establishment__name", "user__last_name", "user__first_name")
        .values_list("user__first_name", "user__last_name", "establishment__name")
    )
    return [Referent(name=f"{first} {last}", establishment=where) for first, last, where in rows]
