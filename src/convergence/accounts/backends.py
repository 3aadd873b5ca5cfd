"""Password sign-in backend: exactly one hash computation per attempt, whatever was typed.

allauth's backend tries an identifier that looks like an e-mail address twice (as an e-mail,
then as a username, then as an e-mail again), so a known address cost two Argon2
verifications and an unknown one a single dummy hash: the time told whether an address had an
account. Here one query finds the one candidate (by login, or by e-mail address when the
identifier holds "@") and exactly one hash is computed: the candidate's verification, or a dummy
hash with the same cost when there is no candidate.
"""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend
from django.http import HttpRequest

from convergence.accounts.models import User

# Set on the request by the adapter, which looked the candidate up for the throttle already.
CANDIDATE_ATTRIBUTE = "convergence_candidate"
NO_CANDIDATE = object()


def find_candidate(identifier: str) -> User | None:
    """The one account ``identifier`` designates, by login or by e-mail address (both unique,
    a login never holds "@"); one indexed query."""
    identifier = identifier.strip().lower()
    if not identifier:
        return None
    field = "email" if "@" in identifier else "login"
    return User.objects.filter(**{field: identifier}).first()


class AccountBackend(AuthenticationBackend):  # type: ignore[misc]
    """allauth's backend with one lookup and one hash computation per password attempt."""

    def authenticate(self, request: HttpRequest | None, **credentials: Any) -> User | None:
        password = credentials.get("password")
        if not password:
            return None
        identifier = str(credentials.get("username") or credentials.get("email") or "")
        stashed = getattr(request, CANDIDATE_ATTRIBUTE, None) if request is not None else None
        if stashed is NO_CANDIDATE:
            user = None
        elif isinstance(stashed, User) and identifier.strip().lower() in (
            stashed.login,
            stashed.email.lower(),
        ):
            user = stashed
        else:
            user = find_candidate(identifier)
        if user is None:
            User().set_password(password)  # the same Argon2 cost as a verification
            return None
        if not user.check_password(password):
            return None
        if not self.user_can_authenticate(user):
            # allauth shows "account inactive" for a right password on an inactive account.
            self._stash_user(user)
            return None
        return user
