"""Blueprint pass of second factors over the ``people`` section: demo TOTP secrets."""

from __future__ import annotations

import base64
from typing import Any

from convergence.core.blueprints import BlueprintError, LoadReport
from convergence.mfa import actions


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


def load_second_factors(data: list[dict[str, Any]], report: LoadReport) -> None:
    """Enrol the TOTP secret given to a person (after accounts created them), and say how to
    compute their current code."""
    people = report.context.get("people", {})
    enrolled = []
    for item in data:
        secret = _totp_secret(item)
        if secret and item.get("key") in people:
            user = people[item["key"]]
            actions.enrol_totp(acting_user=None, user=user, secret=secret)
            enrolled.append((user.login, secret))
    if enrolled:
        width = max(len(login) for login, _secret in enrolled)
        report.notes.append("Codes changeants de démonstration (identifiant — commande) :")
        for login, secret in enrolled:
            report.notes.append(f"  {login:<{width}}  oathtool --totp -b {secret}")
