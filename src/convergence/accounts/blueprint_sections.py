"""Blueprint section of the accounts app: named people of a demo académie, with their roles."""

from __future__ import annotations

import datetime
from typing import Any

from convergence.accounts import actions, passwords
from convergence.accounts.models import AccountState, Role, User, current_school_year
from convergence.core.blueprints import BlueprintError, LoadReport
from convergence.core.models import Establishment


def _birth_date(item: dict[str, Any]) -> datetime.date:
    value = item.get("birth_date")
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError as error:
        raise BlueprintError(
            f"{item.get('first_name')} {item.get('last_name')} : date de naissance invalide."
        ) from error


def load_people(data: list[dict[str, Any]], report: LoadReport) -> None:
    """Create or refresh each person; logins are generated from names on first load."""
    establishments = {e.uai: e for e in Establishment.objects.all()}
    year = current_school_year()
    people: dict[str, User] = {}
    credentials = []
    for item in data:
        birth_date = _birth_date(item)
        grants = []
        for role in item.get("roles", []):
            establishment = establishments.get(str(role["uai"]).upper())
            if establishment is None:
                raise BlueprintError(f"{item['key']} : établissement {role['uai']} inconnu.")
            if role["role"] not in Role.values:
                raise BlueprintError(f"{item['key']} : rôle {role['role']} inconnu.")
            grants.append(
                actions.RoleGrant(establishment, role["role"], str(role.get("division", "")))
            )
        user = User.objects.filter(
            first_name=item["first_name"], last_name=item["last_name"], birth_date=birth_date
        ).first()
        created = user is None
        if user is None:
            user = actions.create_account(
                acting_user=None,
                first_name=item["first_name"],
                last_name=item["last_name"],
                email=item.get("email", ""),
                birth_date=birth_date,
                password=item.get("password"),
                state=item.get("state", AccountState.ACTIVE),
                roles=grants,
                school_year=year,
            )
        else:
            actions.grant_roles(acting_user=None, user=user, roles=grants, school_year=year)
            password = item.get("password")
            if password:
                actions.set_password(
                    acting_user=None, user=user, password=password, reason="blueprint"
                )
        actions.set_administrator(
            acting_user=None, user=user, administrator=bool(item.get("admin"))
        )
        password = item.get("password")
        if password:
            problems = passwords.check_password(password, user=user)
            if problems:
                raise BlueprintError(f"{item['key']} : mot de passe refusé — {' '.join(problems)}")
        people[item["key"]] = user
        report.count("comptes", created=created)
        credentials.append((item.get("title", ""), user, item.get("password", "")))
    for item in data:
        for child_key in item.get("children", []):
            if child_key not in people:
                raise BlueprintError(f"{item['key']} : enfant {child_key} inconnu.")
            actions.link_guardian(
                acting_user=None, parent=people[item["key"]], pupil=people[child_key]
            )
    report.context["people"] = people
    if credentials:
        width = max(len(user.login) for _title, user, _password in credentials)
        report.notes.append("Comptes de démonstration (identifiant — mot de passe — qui) :")
        for title, user, password in credentials:
            state = "" if user.state == AccountState.ACTIVE else f" [{user.get_state_display()}]"
            report.notes.append(
                f"  {user.login:<{width}}  {password or '(aucun)':<22}  "
                f"{user.get_full_name()} — {title}{state}"
            )
