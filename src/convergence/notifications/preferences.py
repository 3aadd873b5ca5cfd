"""What a person wants: their preferences merged over the defaults of their profile, and
their quiet hours, read in bulk for a fan-out to many people.

Defaults when a person has no row (documented in docs/notifications.md):

* the portal channel is on for every category (a notification switched off on the portal
  is still kept in the centre, but arrives already read: it does not ring the bell);
* e-mail: on for sécurité (always, it cannot be switched off), incidents et maintenances
  and assistance; on for annonces except for pupils; off for messagerie (the message itself
  is already in the mailbox) and services;
* staff receive their e-mails as one daily digest at 17 h; parents and pupils immediately
  (a pupil gets no digest);
* quiet hours from 20 h to 7 h and the whole weekend, for everyone: e-mails wait for the
  end of the quiet time (security ones do not);
* push on this person's devices: on for every category but services, for every profile (a
  push only reaches a browser the person chose to subscribe: subscribing is the consent);
  it waits for the end of quiet hours like e-mail (security does not), and has no digest.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from convergence.accounts.models import Assignment, Profile, profile_of_role
from convergence.core.notify import LOCKED, Category
from convergence.notifications.models import Channel, DeliverySettings, EmailMode, Preference

PARIS = ZoneInfo("Europe/Paris")
CHUNK = 500

EMAIL_DEFAULTS: dict[str, frozenset[str]] = {
    Profile.PERSONNEL: frozenset(
        {Category.SECURITE, Category.INCIDENTS, Category.ASSISTANCE, Category.ANNONCES}
    ),
    Profile.PARENT: frozenset(
        {Category.SECURITE, Category.INCIDENTS, Category.ASSISTANCE, Category.ANNONCES}
    ),
    Profile.ELEVE: frozenset({Category.SECURITE, Category.INCIDENTS, Category.ASSISTANCE}),
}


@dataclass(frozen=True)
class Schedule:
    """When e-mail may reach a person: quiet hours (Paris time; ``quiet_from == quiet_to``
    means none), quiet weekends, and immediate or digest e-mail."""

    quiet_from: int = 20
    quiet_to: int = 7
    weekends_quiet: bool = True
    email_mode: str = EmailMode.IMMEDIATE
    digest_hour: int = 17

    def quiet_at(self, moment: datetime.datetime) -> bool:
        local = moment.astimezone(PARIS)
        if self.weekends_quiet and local.weekday() >= 5:
            return True
        if self.quiet_from == self.quiet_to:
            return False
        if self.quiet_from < self.quiet_to:
            return self.quiet_from <= local.hour < self.quiet_to
        return local.hour >= self.quiet_from or local.hour < self.quiet_to

    def quiet_ends(self, moment: datetime.datetime) -> datetime.datetime:
        """``moment`` if it is not quiet, else the first whole hour after it that is not."""
        if not self.quiet_at(moment):
            return moment
        hour = moment.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)
        for _step in range(24 * 4):  # at most a weekend and a night
            hour += datetime.timedelta(hours=1)
            if not self.quiet_at(hour):
                return hour
        return moment  # every hour quiet cannot happen (from != to); never wait forever

    def digest_moment(self, moment: datetime.datetime) -> datetime.datetime | None:
        """Today's digest time (Paris) if it has come at ``moment`` and today is not a quiet
        weekend day; ``None`` otherwise."""
        local = moment.astimezone(PARIS)
        if self.weekends_quiet and local.weekday() >= 5:
            return None
        if local.hour < self.digest_hour:
            return None
        return datetime.datetime.combine(
            local.date(), datetime.time(self.digest_hour), tzinfo=PARIS
        )


DEFAULT_SCHEDULES: dict[str, Schedule] = {
    Profile.PERSONNEL: Schedule(email_mode=EmailMode.DIGEST, digest_hour=17),
    Profile.PARENT: Schedule(email_mode=EmailMode.IMMEDIATE, digest_hour=18),
    Profile.ELEVE: Schedule(email_mode=EmailMode.IMMEDIATE),
}


def default_profile(profiles: Iterable[str]) -> str:
    """The profile whose defaults apply: a pupil's only if the person is only a pupil, a
    parent's only if only a parent; staff otherwise (and for a person without a role)."""
    found = set(profiles)
    if found == {Profile.ELEVE.value}:
        return Profile.ELEVE
    if found == {Profile.PARENT.value}:
        return Profile.PARENT
    return Profile.PERSONNEL


PUSH_DEFAULT_OFF = frozenset({Category.SERVICES.value})


def default_enabled(profile: str, category: str, channel: str) -> bool:
    if category in LOCKED or channel == Channel.PORTAL:
        return True
    if channel == Channel.PUSH:
        return category not in PUSH_DEFAULT_OFF
    return category in EMAIL_DEFAULTS[profile]


def _chunks(values: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _profiles(pks: list[int]) -> dict[int, str]:
    roles: dict[int, set[str]] = {}
    for chunk in _chunks(pks):
        rows = Assignment.objects.current().filter(user__in=chunk).values_list("user", "role")
        for person, role in rows:
            roles.setdefault(person, set()).add(profile_of_role(role).value)
    return {pk: default_profile(roles.get(pk, ())) for pk in pks}


def _schedule(row: DeliverySettings) -> Schedule:
    return Schedule(
        quiet_from=row.quiet_from,
        quiet_to=row.quiet_to,
        weekends_quiet=row.weekends_quiet,
        email_mode=row.email_mode,
        digest_hour=row.digest_hour,
    )


@dataclass(frozen=True)
class Plan:
    """How one notification of one category reaches one person."""

    portal: bool
    email: bool
    push: bool
    schedule: Schedule


def plans(people: list[Any], category: str) -> dict[int, Plan]:
    """Each person's plan for ``category``: a few queries per 500 people, whatever their
    number."""
    pks = [person.pk for person in people]
    profiles = _profiles(pks)
    chosen: dict[tuple[int, str], bool] = {}
    schedules: dict[int, Schedule] = {}
    for chunk in _chunks(pks):
        rows = Preference.objects.filter(person__in=chunk, category=category)
        for person, channel, enabled in rows.values_list("person", "channel", "enabled"):
            chosen[(person, channel)] = enabled
        for row in DeliverySettings.objects.filter(person__in=chunk):
            schedules[row.person_id] = _schedule(row)
    found = {}
    for pk in pks:
        profile = profiles[pk]

        def chosen_for(channel: str, pk: int = pk, profile: str = profile) -> bool:
            if category in LOCKED:
                return True
            return chosen.get((pk, channel), default_enabled(profile, category, channel))

        found[pk] = Plan(
            portal=chosen_for(Channel.PORTAL),
            email=chosen_for(Channel.EMAIL),
            push=chosen_for(Channel.PUSH),
            schedule=schedules.get(pk, DEFAULT_SCHEDULES[profile]),
        )
    return found


def grid_of(user: Any) -> dict[tuple[str, str], bool]:
    """The person's whole category-by-channel grid, defaults included."""
    profile = _profiles([user.pk])[user.pk]
    chosen = {
        (category, channel): enabled
        for category, channel, enabled in Preference.objects.filter(person=user).values_list(
            "category", "channel", "enabled"
        )
    }
    return {
        (category, channel): True
        if category in LOCKED
        else chosen.get((category, channel), default_enabled(profile, category, channel))
        for category in Category.values
        for channel in Channel.values
    }


def schedule_of(user: Any) -> Schedule:
    row = DeliverySettings.objects.filter(person=user).first()
    if row is not None:
        return _schedule(row)
    return DEFAULT_SCHEDULES[_profiles([user.pk])[user.pk]]
