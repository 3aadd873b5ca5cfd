"""What the services learn about a person: one function for OIDC claims and CAS attributes."""

from __future__ import annotations

from typing import Any

from convergence.accounts.models import Assignment, User, current_school_year

# Which scope releases which OIDC claim (``openid`` ones come with every ID token).
CLAIM_SCOPES: dict[str, str] = {
    "sub": "openid",
    "name": "profile",
    "given_name": "profile",
    "family_name": "profile",
    "preferred_username": "profile",
    "profile": "profile",
    "email": "email",
    "establishments": "establishments",
    "school_year": "establishments",
}


def person_claims(user: User) -> dict[str, Any]:
    """The person's identity as services see it: roles and UAIs of the current school year."""
    year = current_school_year()
    # Sorted below: ordering in the database would cost more than sorting a few rows.
    rows = list(
        Assignment.objects.filter(user=user, school_year=year).values_list(
            "role", "establishment__uai"
        )
    )
    return {
        "name": f"{user.first_name} {user.last_name}".strip(),
        "given_name": user.first_name,
        "family_name": user.last_name,
        "preferred_username": user.login,
        "profile": sorted({role for role, _ in rows}),
        "email": user.email,
        "establishments": sorted({uai for _, uai in rows}),
        "school_year": year,
    }
