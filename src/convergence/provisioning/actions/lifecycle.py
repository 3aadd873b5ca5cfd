"""Rentrée and departures: archiving leavers, closing a school year, and the purge that keeps
their personal data no longer than the law allows (ENT order of 30 Nov 2006, art. 6)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convergence.accounts.actions.accounts import change_account_state
from convergence.accounts.models import (
    AccountState,
    Assignment,
    OneTimeCode,
    Role,
    SchoolYear,
    User,
    forget_open_school_year,
)
from convergence.accounts.school_years import leavers_of, next_school_year
from convergence.accounts.signals import account_deactivated
from convergence.audit.actions import record_event
from convergence.provisioning import events

PURGE_BATCH = 200
ARCHIVE_BATCH = 500


class SchoolYearError(ValueError):
    """A school year that cannot be closed (already closed); the message is French."""


def archive_account(
    *,
    acting_user: User | None,
    user: User,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> User:
    """Archive a leaver: no sign-in from now on, personal data deleted after the retention time.

    One transaction: the state change (its ``account_deactivated`` listeners end the portal
    sessions and single sign-on sessions, tokens and tickets), the archive date and the
    deletion of unused one-time codes; audited as ``account.archived``. Archiving an archived
    account does nothing.
    """
    if user.state == AccountState.ARCHIVED and user.archived_at is not None:
        return user
    moment = now or timezone.now()
    previous = user.state
    with transaction.atomic():
        change_account_state(
            acting_user=acting_user, user=user, state=AccountState.ARCHIVED, request=request
        )
        user.archived_at = moment
        user.save(update_fields=["archived_at"])
        OneTimeCode.objects.filter(user=user, used_at__isnull=True).delete()
        record_event(
            event_type=events.ACCOUNT_ARCHIVED,
            request=request,
            actor=acting_user,
            subject=user,
            data={"from": previous},
        )
    return user


@dataclass
class SchoolYearClosing:
    """What closing a school year did (or, in a preview, would do)."""

    year: str
    next_year: str
    assignments: int = 0
    leavers: dict[str, int] = field(default_factory=dict)
    # Whether the person closing holds a role next year (else they lose this page with it).
    acting_user_has_next_role: bool = True

    @property
    def archived(self) -> int:
        return sum(self.leavers.values())


def _profile_key(roles: set[str]) -> str:
    if Role.ELEVE in roles:
        return "pupils"
    if roles == {Role.PARENT}:
        return "parents"
    return "staff"


def preview_school_year_closing(*, acting_user: User | None, year: str) -> SchoolYearClosing:
    """What closing ``year`` would do, without writing anything (the page's dry run)."""
    closing = SchoolYearClosing(year=year, next_year=next_school_year(year))
    closing.assignments = Assignment.objects.filter(school_year=year).count()
    closing.leavers = _count_by_profile(leavers_of(year, keep=acting_user), year)
    if acting_user is not None:
        closing.acting_user_has_next_role = Assignment.objects.filter(
            user=acting_user, school_year=closing.next_year
        ).exists()
    return closing


def _count_by_profile(leavers: QuerySet[User], year: str) -> dict[str, int]:
    counts = {"pupils": 0, "parents": 0, "staff": 0}
    roles: dict[int, set[str]] = {}
    rows = Assignment.objects.filter(school_year=year, user__in=leavers).values_list(
        "user_id", "role"
    )
    for user_id, role in rows.iterator(chunk_size=2000):
        roles.setdefault(user_id, set()).add(role)
    for user_roles in roles.values():
        counts[_profile_key(user_roles)] += 1
    return counts


def close_school_year(
    *,
    acting_user: User | None,
    year: str,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> SchoolYearClosing:
    """Close ``year`` and open the next one (rentrée), archiving the leavers, in one transaction.

    A leaver held a role in ``year`` and holds none in the next year; a parent stays while one
    of their children stays. The acting person is never archived by their own closing. The
    assignments of the closed year are kept as history. Audited as ``school_year.closed``
    with counts, and ``account.archived`` for each leaver.
    """
    moment = now or timezone.now()
    next_year = next_school_year(year)
    with transaction.atomic():
        school_year, _created = SchoolYear.objects.select_for_update().get_or_create(
            name=year, defaults={"opened_at": moment}
        )
        if school_year.closed_at is not None:
            raise SchoolYearError(
                str(_("L'année scolaire %(year)s est déjà close.") % {"year": year})
            )
        closing = SchoolYearClosing(year=year, next_year=next_year)
        closing.assignments = Assignment.objects.filter(school_year=year).count()
        leavers = leavers_of(year, keep=acting_user)
        closing.leavers = _count_by_profile(leavers, year)
        pks = list(leavers.values_list("pk", flat=True))
        for start in range(0, len(pks), ARCHIVE_BATCH):
            _archive_leavers(
                pks[start : start + ARCHIVE_BATCH],
                acting_user=acting_user,
                year=year,
                request=request,
                moment=moment,
            )
        school_year.closed_at = moment
        school_year.save(update_fields=["closed_at"])
        SchoolYear.objects.update_or_create(
            name=next_year, defaults={"opened_at": moment, "closed_at": None}
        )
        record_event(
            event_type=events.SCHOOL_YEAR_CLOSED,
            request=request,
            actor=acting_user,
            data={
                "year": year,
                "next_year": next_year,
                "assignments": closing.assignments,
                "archived": closing.archived,
                **{f"archived_{key}": value for key, value in closing.leavers.items()},
            },
        )
        transaction.on_commit(forget_open_school_year)
    forget_open_school_year()
    return closing


def _archive_leavers(
    pks: list[int],
    *,
    acting_user: User | None,
    year: str,
    request: HttpRequest | None,
    moment: datetime.datetime,
) -> None:
    """``archive_account`` for a batch of leavers, with one UPDATE and one DELETE for all.

    Each leaver still gets its own ``account.archived`` row (which says the state it left,
    so no separate ``account.state_changed``) and, when it was active, its own
    ``account_deactivated`` signal, as ``change_account_state`` sends it.
    """
    users = list(User.objects.filter(pk__in=pks).exclude(state=AccountState.ARCHIVED))
    User.objects.filter(pk__in=[user.pk for user in users]).update(
        state=AccountState.ARCHIVED, archived_at=moment
    )
    OneTimeCode.objects.filter(user__in=users, used_at__isnull=True).delete()
    for user in users:
        previous = user.state
        user.state = AccountState.ARCHIVED
        user.archived_at = moment
        record_event(
            event_type=events.ACCOUNT_ARCHIVED,
            request=request,
            actor=acting_user,
            subject=user,
            data={"from": previous, "school_year": year},
        )
        if previous == AccountState.ACTIVE:
            account_deactivated.send(sender=User, user=user, request=request)


def purge_departed_accounts(*, now: datetime.datetime | None = None) -> int:
    """Delete the accounts archived longer than the retention time, with everything they own.

    The account row goes, and with it (database cascades) roles, guardianships, favourites,
    single sign-on sessions, consents, tokens, second factors and portal sessions; audit rows
    stay with their actor and subject emptied. Batches of ``PURGE_BATCH`` accounts, one
    transaction each; audited once as ``account.purged`` with the count only (no names).
    Returns the number of accounts deleted.
    """
    moment = now or timezone.now()
    cutoff = moment - datetime.timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS)
    due = User.objects.filter(state=AccountState.ARCHIVED, archived_at__lt=cutoff)
    purged = 0
    while True:
        batch = list(due.values_list("pk", flat=True)[:PURGE_BATCH])
        if not batch:
            break
        with transaction.atomic():
            _keep_shared_configuration(batch)
            User.objects.filter(pk__in=batch).delete()
        purged += len(batch)
    if purged:
        record_event(
            event_type=events.PERSONAL_DATA_PURGED,
            data={
                "accounts": purged,
                "retention_days": settings.PERSONAL_DATA_RETENTION_DAYS,
            },
        )
    return purged


def _keep_shared_configuration(pks: list[int]) -> None:
    """Detach what outlives its author before the accounts go.

    django-oauth-toolkit's ``Application.user`` cascades: an OAuth client (a catalogue
    service's) that a departed administrator happened to own would be deleted with them.
    """
    from oauth2_provider.models import Application

    Application.objects.filter(user__in=pks).update(user=None)
