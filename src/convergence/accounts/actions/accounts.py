"""Every write to accounts: creation, roles, guardianships, state, password set by
configuration, administration access, throttle clearing."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest

from convergence.accounts import events, throttle
from convergence.accounts.logins import create_with_unique_login
from convergence.accounts.models import (
    AccountState,
    Assignment,
    Guardianship,
    User,
    current_school_year,
)
from convergence.accounts.signals import account_deactivated
from convergence.audit.actions import record_event
from convergence.core.models import Establishment


@dataclass(frozen=True)
class RoleGrant:
    establishment: Establishment
    role: str
    division: str = ""


def create_account(
    *,
    acting_user: User | None,
    first_name: str,
    last_name: str,
    email: str = "",
    birth_date: datetime.date | None = None,
    password: str | None = None,
    state: str = AccountState.INVITED,
    roles: Iterable[RoleGrant] = (),
    school_year: str | None = None,
    request: HttpRequest | None = None,
) -> User:
    """Create an account with a unique generated login and its roles, in one transaction.

    Audited as ``account.created``. Without a password the account cannot sign in until it
    is activated.
    """
    year = school_year or current_school_year()

    def create(login: str) -> User:
        return User.objects.create_user(
            login,
            password,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            email=email.strip().lower(),
            birth_date=birth_date,
            state=state,
        )

    with transaction.atomic():
        user = create_with_unique_login(first_name=first_name, last_name=last_name, create=create)
        Assignment.objects.bulk_create(
            Assignment(
                user=user,
                establishment=grant.establishment,
                role=grant.role,
                division=grant.division,
                school_year=year,
            )
            for grant in roles
        )
        record_event(
            event_type=events.ACCOUNT_CREATED,
            request=request,
            actor=acting_user,
            subject=user,
            data={"roles": sorted({grant.role for grant in roles})},
        )
    return user


def link_guardian(
    *,
    acting_user: User | None,
    parent: User,
    pupil: User,
    request: HttpRequest | None = None,
) -> Guardianship:
    """Record that ``parent`` is a legal guardian of ``pupil`` (idempotent).

    A new link is audited as ``guardianship.created`` on the parent's account (who gains
    access to the child's data), naming who made it.
    """
    with transaction.atomic():
        guardianship, created = Guardianship.objects.get_or_create(parent=parent, pupil=pupil)
        if created:
            record_event(
                event_type=events.GUARDIANSHIP_CREATED,
                request=request,
                actor=acting_user,
                subject=parent,
                data={"pupil": pupil.login},
            )
    return guardianship


def grant_roles(
    *,
    acting_user: User | None,
    user: User,
    roles: Iterable[RoleGrant],
    school_year: str | None = None,
    request: HttpRequest | None = None,
) -> int:
    """Give ``user`` the roles they do not hold yet this school year; returns how many.

    One transaction; audited as ``account.roles_granted`` when something was added.
    """
    year = school_year or current_school_year()
    added = []
    with transaction.atomic():
        for grant in roles:
            _assignment, created = Assignment.objects.get_or_create(
                user=user,
                establishment=grant.establishment,
                role=grant.role,
                school_year=year,
                defaults={"division": grant.division},
            )
            if created:
                added.append(grant)
        if added:
            record_event(
                event_type=events.ROLES_GRANTED,
                request=request,
                actor=acting_user,
                subject=user,
                data={
                    "roles": sorted({grant.role for grant in added}),
                    "establishments": sorted({grant.establishment.uai for grant in added}),
                    "school_year": year,
                },
            )
    return len(added)


def set_password(
    *,
    acting_user: User | None,
    user: User,
    password: str,
    reason: str,
    request: HttpRequest | None = None,
) -> bool:
    """Give ``user`` this password unless it is already theirs; returns whether it changed.

    For passwords set by a configuration file (``reason`` says which, e.g. ``blueprint``);
    audited as ``password.set``. The caller has checked the password policy.
    """
    if user.check_password(password):
        return False
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        record_event(
            event_type=events.PASSWORD_SET,
            request=request,
            actor=acting_user,
            subject=user,
            data={"reason": reason},
        )
    return True


def set_administrator(
    *,
    acting_user: User | None,
    user: User,
    administrator: bool,
    request: HttpRequest | None = None,
) -> bool:
    """Open or close the administration to ``user`` (staff and superuser together).

    Early return when nothing changes; audited as ``account.administrator_changed``.
    """
    if user.is_staff == administrator and user.is_superuser == administrator:
        return False
    with transaction.atomic():
        user.is_staff = user.is_superuser = administrator
        user.save(update_fields=["is_staff", "is_superuser"])
        record_event(
            event_type=events.ADMINISTRATOR_CHANGED,
            request=request,
            actor=acting_user,
            subject=user,
            data={"administrator": administrator},
        )
    return True


def change_account_state(
    *, acting_user: User | None, user: User, state: str, request: HttpRequest | None = None
) -> User:
    """Move an account to another state (audited).

    A session of an account that is no longer active stops authenticating at its next
    request: the authentication backend only returns active accounts.
    """
    previous = user.state
    if previous == state:
        return user
    with transaction.atomic():
        user.state = state
        user.save(update_fields=["state"])
        record_event(
            event_type=events.ACCOUNT_STATE_CHANGED,
            request=request,
            actor=acting_user,
            subject=user,
            data={"from": previous, "to": state},
        )
        if previous == AccountState.ACTIVE:
            # Listeners (single sign-on) end sessions, tokens and tickets in this transaction.
            account_deactivated.send(sender=User, user=user, request=request)
    return user


def clear_throttle(*, acting_user: User, user: User, request: HttpRequest | None = None) -> None:
    """Lift the account-wide sign-in delays at once (an administrator's decision, audited)."""
    throttle.clear(throttle.account_key(user.login, user.pk))
    record_event(
        event_type=events.THROTTLE_CLEARED, request=request, actor=acting_user, subject=user
    )
