"""The request of a signed-in person, typed as such.

Views behind ``login_required``, ``manager_required``, ``dsi_required`` (or any
``permissions.role_required``) only ever see a signed-in account: they take
``request: AuthenticatedRequest`` and use ``request.user`` as the ``User`` it is. Code that
learns it only at run time (after its own ``is_authenticated`` check, a class-based view's
``self.request``) asks ``signed_in_user(request)``.
"""

from __future__ import annotations

from django.http import HttpRequest

from convergence.accounts.models import User


class AuthenticatedRequest(HttpRequest):
    """An ``HttpRequest`` whose ``user`` is an account (never ``AnonymousUser``)."""

    user: User


def signed_in_user(request: HttpRequest) -> User:
    """The account signed in on ``request``, which the caller knows is signed in."""
    user = request.user
    assert isinstance(user, User)
    return user
