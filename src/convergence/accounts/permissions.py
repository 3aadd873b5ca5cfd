"""Who may act on other people's accounts: the "Gestion des comptes" area's one gate.

The delegation rule itself is ``User.objects.managed_by(actor)``; this module turns it into
the checks views make: is the actor a manager at all (référent numérique or DSI this school
year), and which account a ``pk`` in a URL may designate (404 outside the actor's reach, so
nothing is revealed about accounts elsewhere).

Every refusal at this gate — a non-manager on a manager's page, a référent on an account or
a letter batch outside their reach — is audited (``audit.actions.record_refusal``,
rate-limited) by the decorators, which see the request; the answer stays the same 403 or 404.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase

from convergence.accounts.models import Assignment, Role, User
from convergence.audit.actions import record_refusal
from convergence.core.models import Establishment

MANAGER_ROLES = frozenset({Role.REFERENT, Role.DSI})

_View = TypeVar("_View", bound=Callable[..., HttpResponseBase])


def holds_role(user: Any, *roles: str) -> bool:
    """Whether ``user``, an active account, holds one of ``roles`` this school year."""
    if not isinstance(user, User) or not user.is_active:
        return False
    return Assignment.objects.current().holding(user, *roles).exists()


def has_academic_mailbox(user: Any) -> bool:
    """Whether ``user`` has a mailbox on the académie's mail server: every active account
    holding a role this school year other than parent (a parent's address is their own)."""
    if not isinstance(user, User) or not user.is_active:
        return False
    return Assignment.objects.current().filter(user=user).exclude(role=Role.PARENT).exists()


def is_dsi(user: Any) -> bool:
    """Whether ``user`` holds the DSI role this school year (acts on the whole académie)."""
    return holds_role(user, Role.DSI)


def is_manager(user: Any) -> bool:
    """Whether ``user`` is a référent numérique or DSI this school year."""
    return holds_role(user, *MANAGER_ROLES)


def managed_establishments(user: Any) -> QuerySet[Establishment]:
    """Establishments whose accounts ``user`` manages: all for a DSI, theirs for a référent."""
    if is_dsi(user):
        return Establishment.objects.all()
    if not isinstance(user, User) or not user.is_active:
        return Establishment.objects.none()
    # Anyone but a référent holds no such role: the subquery is then empty.
    return Establishment.objects.filter(
        pk__in=Assignment.objects.current().holding(user, Role.REFERENT).values("establishment")
    )


def is_rectorat(user: Any) -> bool:
    """Whether ``user`` speaks for the rectorat: an active superuser or DSI this school year
    (announcements to any establishment, to departments or to the whole académie)."""
    if not isinstance(user, User) or not user.is_active:
        return False
    return bool(user.is_superuser) or is_dsi(user)


def may_publish_announcements(user: Any) -> bool:
    """Whether ``user`` may write announcements: the rectorat, or a personnel de direction
    this school year (for their own establishments)."""
    return is_rectorat(user) or holds_role(user, Role.DIRECTION)


def announcement_establishments(user: Any) -> QuerySet[Establishment]:
    """Establishments ``user`` may address announcements to: all for the rectorat, those
    where they are personnel de direction this school year otherwise, none for anyone else."""
    if is_rectorat(user):
        return Establishment.objects.all()
    if not isinstance(user, User) or not user.is_active:
        return Establishment.objects.none()
    return Establishment.objects.filter(
        pk__in=Assignment.objects.current().holding(user, Role.DIRECTION).values("establishment")
    )


class OutsideDelegation(Http404):
    """A 404 (answered as any other) for something outside the actor's reach; the gate's
    decorators audit it with the request, naming what was asked (``kind``, ``target``)."""

    def __init__(self, *, kind: str, target: Any) -> None:
        super().__init__()
        self.kind = kind
        self.target = target


def get_managed_account_or_404(actor: User, pk: int) -> User:
    """The account ``pk`` if ``actor`` may act on it, else 404 (whether it exists or not)."""
    try:
        return User.objects.managed_by(actor).get(pk=pk)
    except User.DoesNotExist:
        raise OutsideDelegation(kind="account", target=pk) from None


def _gate(view: _View, allowed: Callable[[Any], bool], refusal: str) -> _View:
    """Sign-in page for anonymous users; a 403 (audited) for those ``allowed`` refuses; the
    view's own 404s for things outside the actor's delegation audited as they pass."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not allowed(request.user):
            record_refusal(kind=refusal, request=request, actor=request.user)
            raise PermissionDenied
        try:
            return view(request, *args, **kwargs)
        except OutsideDelegation as outside:
            record_refusal(
                kind=outside.kind, request=request, actor=request.user, target=outside.target
            )
            raise

    return cast(_View, wrapper)


def role_required(*roles: str, refusal: str = "role_page") -> Callable[[_View], _View]:
    """View decorator: the sign-in page for anonymous users, the French 403 page (audited as
    ``refusal``) for those who hold none of ``roles`` this school year."""

    def decorator(view: _View) -> _View:
        return _gate(view, lambda user: holds_role(user, *roles), refusal)

    return decorator


# The "Gestion des comptes" pages: référents numériques and the DSI.
manager_required = role_required(*MANAGER_ROLES, refusal="manager_page")
# Whole-académie pages (imports, rentrée, four-eyes requests): the DSI only.
dsi_required = role_required(Role.DSI, refusal="dsi_page")
# Writing announcements: the direction of an establishment and the rectorat.
announcer_required: Callable[[_View], _View] = lambda view: _gate(  # noqa: E731
    view, may_publish_announcements, "announcement_page"
)
# The webmail and its app passwords: whoever has a mailbox on the académie's mail server.
mailbox_required: Callable[[_View], _View] = lambda view: _gate(  # noqa: E731
    view, has_academic_mailbox, "mailbox_page"
)
