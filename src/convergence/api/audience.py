"""Whom a service may notify: the people it serves, that is the people who see its tile in
the catalogue — the same rule as ``Service.objects.for_audience`` read from the other side
(from the service to the people, in one query, instead of from a person to the services)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet

from convergence.accounts.models import AccountState, Assignment, User, current_school_year
from convergence.portal.models import Service

# How a service names a person: the login, or the OIDC ``sub`` it received (the account's
# number, digits only; no login is made of digits alone).
MAX_IDENTIFIER_LENGTH = 64
# Account numbers fit a signed 64-bit column.
MAX_NUMBER_DIGITS = 18


def _number(identifier: str) -> int | None:
    """The account number an identifier names (ASCII digits), or ``None`` for a login."""
    if identifier.isascii() and identifier.isdigit() and len(identifier) <= MAX_NUMBER_DIGITS:
        return int(identifier)
    return None


def served_by(service: Service) -> QuerySet[User]:
    """Active accounts that see ``service`` in their catalogue this school year: everyone
    when it is meant for everyone, else the holders of an assignment matching one of its
    audience rules (every field a rule sets must match the same assignment); nobody when it
    is not published."""
    people = User.objects.filter(state=AccountState.ACTIVE)
    if not service.is_published:
        return people.none()
    if service.for_everyone:
        return people
    matches = Q(pk__in=[])
    for role, establishment_id, department_id in service.audience_rules.values_list(
        "role", "establishment_id", "department_id"
    ):
        rule = Q()
        if role:
            rule &= Q(role=role)
        if establishment_id is not None:
            rule &= Q(establishment_id=establishment_id)
        if department_id is not None:
            rule &= Q(establishment__department_id=department_id)
        matches |= rule
    held = Assignment.objects.filter(
        matches, user=OuterRef("pk"), school_year=current_school_year()
    )
    return people.filter(Exists(held))


def resolve(service: Service, identifiers: Iterable[str]) -> tuple[list[User], list[str]]:
    """The people among ``identifiers`` (logins or ``sub``) whom ``service`` serves, and the
    identifiers left out, as given and in their order — unknown and not served alike."""
    given = list(dict.fromkeys(identifiers))
    numbers = {item: _number(item.strip()) for item in given}
    logins = {item.strip().lower() for item, number in numbers.items() if number is None}
    found = list(
        served_by(service).filter(
            Q(login__in=logins) | Q(pk__in={n for n in numbers.values() if n is not None})
        )
    )
    by_login = {user.login: user for user in found}
    by_number = {user.pk: user for user in found}
    people: dict[int, User] = {}
    ignored: list[str] = []
    for item in given:
        number = numbers[item]
        user = by_login.get(item.strip().lower()) if number is None else by_number.get(number)
        if user is None:
            ignored.append(item)
        else:
            people[user.pk] = user
    return list(people.values()), ignored
