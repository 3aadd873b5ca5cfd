"""Who may act on other people's accounts: the "Gestion des comptes" area's one gate.

The delegation rule itself is ``User.objects.managed_by(actor)``; this module turns it into
the checks views make: is the actor a manager at all (référent numérique or DSI this school
year), and which account a ``pk`` in a URL may designate (404 outside the actor's reach, so
nothing is revealed about accounts elsewhere).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase

from convergence.core.models import Establishment

from .models import Assignment, Role, User

MANAGER_ROLES = frozenset({Role.REFERENT, Role.DSI})

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


def _current_roles(user: Any) -> set[str]:
    """Roles an active account holds this school year."""
    if not isinstance(user, User) or not user.is_active:
        return set()
    return set(Assignment.objects.current().filter(user=user).values_list("role", flat=True))


def is_dsi(user: Any) -> bool:
    """Whether ``user`` holds the DSI role this school year (acts on the whole académie)."""
    return Role.DSI in _current_roles(user)


def is_manager(user: Any) -> bool:
    """Whether ``user`` is a référent numérique or DSI this school year."""
    return bool(MANAGER_ROLES & _current_roles(user))


def managed_establishments(user: Any) -> QuerySet[Establishment]:
    """Establishments whose accounts ``user`` manages: all for a DSI, theirs for a référent."""
    if is_dsi(user):
        return Establishment.objects.all()
    if not is_manager(user):
        return Establishment.objects.none()
    return Establishment.objects.filter(
        pk__in=Assignment.objects.current()
        .filter(user=user, role=Role.REFERENT)
        .values("establishment")
    )


def get_managed_account_or_404(actor: User, pk: int) -> User:
    """The account ``pk`` if ``actor`` may act on it, else 404 (whether it exists or not)."""
    try:
        return User.objects.managed_by(actor).get(pk=pk)
    except User.DoesNotExist:
        raise Http404 from None


def manager_required(view: _View) -> _View:
    """View decorator: sign-in page for anonymous users, French 403 page for non-managers."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_manager(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return cast(_View, wrapper)


def dsi_required(view: _View) -> _View:
    """View decorator for whole-académie pages: sign-in page, then French 403 for non-DSI."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_dsi(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return cast(_View, wrapper)
