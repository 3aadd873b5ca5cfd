"""Every write to accounts: creation, state changes, password changes, throttle clearing."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest

from convergence.audit import events
from convergence.audit.actions import record_event
from convergence.core.models import Establishment

from .. import throttle
from ..logins import create_with_unique_login
from ..models import AccountState, Assignment, Guardianship, User, current_school_year
from ..signals import account_deactivated


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


def link_guardian(*, acting_user: User | None, parent: User, pupil: User) -> Guardianship:
    """Record that ``parent`` is a legal guardian of ``pupil`` (idempotent)."""
    guardianship, _created = Guardianship.objects.get_or_create(parent=parent, pupil=pupil)
    return guardianship


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
