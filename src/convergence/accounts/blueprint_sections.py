"""Blueprint section of the accounts app: named people of a demo académie, with their roles."""

from __future__ import annotations

import base64
import datetime
from typing import Any

from convergence.core.blueprints import BlueprintError, LoadReport
from convergence.core.models import Establishment

from . import actions, passwords
from .models import AccountState, Assignment, Role, User, current_school_year


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


def _totp_secret(item: dict[str, Any]) -> str:
    """The person's optional TOTP secret (base32), checked so a typo fails the load."""
    secret = str(item.get("totp_secret") or "").replace(" ", "").upper()
    if not secret:
        return ""
    try:
        if len(base64.b32decode(secret, casefold=True)) < 10:
            raise ValueError
    except ValueError as error:
        raise BlueprintError(f"{item.get('key')} : totp_secret invalide (base32).") from error
    return secret


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
            for grant in grants:
                Assignment.objects.get_or_create(
                    user=user,
                    establishment=grant.establishment,
                    role=grant.role,
                    school_year=year,
                    defaults={"division": grant.division},
                )
            password = item.get("password")
            if password and not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
        admin = bool(item.get("admin"))
        if user.is_staff != admin or user.is_superuser != admin:
            user.is_staff = user.is_superuser = admin
            user.save(update_fields=["is_staff", "is_superuser"])
        password = item.get("password")
        if password:
            problems = passwords.check_password(password, user=user)
            if problems:
                raise BlueprintError(f"{item['key']} : mot de passe refusé — {' '.join(problems)}")
        totp_secret = _totp_secret(item)
        if totp_secret:
            actions.enrol_totp(acting_user=None, user=user, secret=totp_secret)
        people[item["key"]] = user
        report.count("comptes", created=created)
        credentials.append((item.get("title", ""), user, item.get("password", ""), totp_secret))
    for item in data:
        for child_key in item.get("children", []):
            if child_key not in people:
                raise BlueprintError(f"{item['key']} : enfant {child_key} inconnu.")
            actions.link_guardian(
                acting_user=None, parent=people[item["key"]], pupil=people[child_key]
            )
    report.context["people"] = people
    if credentials:
        width = max(len(user.login) for _title, user, _password, _secret in credentials)
        report.notes.append("Comptes de démonstration (identifiant — mot de passe — qui) :")
        for title, user, password, secret in credentials:
            state = "" if user.state == AccountState.ACTIVE else f" [{user.get_state_display()}]"
            report.notes.append(
                f"  {user.login:<{width}}  {password or '(aucun)':<22}  "
                f"{user.get_full_name()} — {title}{state}"
            )
            if secret:
                report.notes.append(
                    f"  {'':<{width}}  code changeant : oathtool --totp -b {secret}"
                )
