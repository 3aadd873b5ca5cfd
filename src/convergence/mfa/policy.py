"""Second-factor policy: the one place that decides who needs a second factor, and when.

* **Per role**: whoever holds this school year a role of ``settings.MFA_REQUIRED_ROLES``
  (direction, administratif, référent, DSI by default) must have a factor;
  :class:`RequireSecondFactorMiddleware` sends them to "Sécurité du compte" until they enrol
  one. Once enrolled, allauth asks for it at every sign-in.
* **Per service and network**: a sensitive service (``Service.mfa_required``), or an
  Arena-like one (``Service.mfa_outside_trusted_networks``) reached from outside the
  académie's trusted networks, needs a session that used a factor; the SSO endpoints ask for
  one (step-up, ``sso/step_up.py``).

What counts as "used a factor": allauth records every authentication of the session in
``request.session["account_authentication_methods"]``; a record of method ``mfa`` (a TOTP
code, a recovery code, a security key, or a passkey sign-in) for the signed-in person.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlencode

from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_htmx.http import HttpResponseClientRedirect

from convergence.accounts.models import Assignment
from convergence.core import open_urls
from convergence.core.http import client_ip, session_user_pk
from convergence.core.models import Academie


class ProtectedService(Protocol):
    """What the policy reads of a catalogue service (the portal's ``Service``, above mfa)."""

    mfa_required: bool
    mfa_outside_trusted_networks: bool


# allauth's method name for every second factor (and for a passkey sign-in).
MFA_METHOD = "mfa"
# How long "this person satisfies the role policy" is remembered (shared cache): a removed
# factor or a new role is noticed within this time; enrolling or removing a factor at once.
POLICY_CACHE_SECONDS = 300

ENROL_MESSAGE = _(
    "Votre fonction donne accès à des données sensibles : un second facteur est obligatoire. "
    "Activez les codes changeants (une application sur votre téléphone) ou une clé d'accès "
    "pour continuer."
)


# --- What the session and the person have ----------------------------------------------------


def session_used_mfa(request: HttpRequest) -> bool:
    """True when the signed-in person proved a second factor in this session (at sign-in, by
    a passkey sign-in, or by a later step-up)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return False
    records = get_authentication_records(request, user)
    return any(isinstance(r, dict) and r.get("method") == MFA_METHOD for r in records)


def session_used_mfa_within(request: HttpRequest, seconds: int) -> bool:
    """True when the signed-in person proved a second factor in this session less than
    ``seconds`` ago (creating a credential that bypasses the factor asks for a fresh one)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return False
    since = time.time() - seconds
    records = get_authentication_records(request, user)
    return any(
        isinstance(r, dict)
        and r.get("method") == MFA_METHOD
        and isinstance(r.get("at"), int | float)
        and r["at"] >= since
        for r in records
    )


def user_has_mfa(user: AbstractBaseUser | AnonymousUser) -> bool:
    """True when the person has enrolled a second factor (codes changeants or a key)."""
    if not user.is_authenticated:
        return False
    return bool(is_mfa_enabled(user))


def mfa_required_for(user: AbstractBaseUser | AnonymousUser) -> bool:
    """True when the person holds this school year a role whose holders must use a factor."""
    if not user.is_authenticated:
        return False
    roles = list(settings.MFA_REQUIRED_ROLES)
    return (
        bool(roles)
        and Assignment.objects.current().filter(user_id=user.pk, role__in=roles).exists()
    )


def second_factor_required(request: HttpRequest, service: ProtectedService | None) -> bool:
    """Whether opening ``service`` from this request needs a second factor: a sensitive
    service always, an Arena-like one from outside the académie's trusted networks."""
    if service is None:
        return False
    if service.mfa_required:
        return True
    if service.mfa_outside_trusted_networks:
        return not Academie.current().is_trusted_address(client_ip(request))
    return False


def step_up_url(user: AbstractBaseUser, next_url: str) -> str:
    """allauth's "confirm with your second factor" page for this person, then ``next_url``.

    A code (TOTP or recovery code) when they have one, else their security key: allauth's
    code page would otherwise send a keys-only person to the password page.
    """
    has_code = is_mfa_enabled(
        user, types=[Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
    )
    name = "mfa_reauthenticate" if has_code else "mfa_reauthenticate_webauthn"
    return f"{reverse(name)}?{urlencode({'next': next_url})}"


# --- The role policy, enforced on every page ---------------------------------------------------


def _policy_key(user_pk: Any) -> str:
    return f"accounts:mfa-policy-ok:{user_pk}"


def satisfies_role_policy(user: AbstractBaseUser) -> bool:
    """True when the person need not enrol: no role requires it, or a factor is enrolled.
    A positive answer is cached (``POLICY_CACHE_SECONDS``); a negative one never is, so a
    new factor is honoured at the next request."""
    return _decided_recently(user.pk) or _decide(user)


def _decided_recently(user_pk: Any) -> bool:
    return bool(cache.get(_policy_key(user_pk)))


def _decide(user: AbstractBaseUser) -> bool:
    ok = not mfa_required_for(user) or user_has_mfa(user)
    if ok:
        cache.set(_policy_key(user.pk), True, POLICY_CACHE_SECONDS)
    return ok


def forget_policy_decision(sender: Any, instance: Authenticator, **kwargs: Any) -> None:
    """A factor was added or removed: decide again at the person's next request."""
    cache.delete(_policy_key(instance.user_id))


def connect() -> None:
    """Connected in ``MfaConfig.ready``."""
    post_save.connect(forget_policy_decision, sender=Authenticator, dispatch_uid="mfa_policy_s")
    post_delete.connect(forget_policy_decision, sender=Authenticator, dispatch_uid="mfa_policy_d")


class RequireSecondFactorMiddleware:
    """Sends a signed-in person whose role requires a second factor, and who has none, to the
    enrolment page with a French explanation, whatever page they asked for (except the
    enrolment pages, sign-out, password change, help, static files)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The account is loaded only when its cached answer is missing (core.http).
        user_pk = session_user_pk(request)
        if (
            user_pk is None
            or open_urls.is_open(request.path, open_urls.During.ENROLMENT)
            or _decided_recently(user_pk)
        ):
            return self.get_response(request)
        user = request.user
        if not user.is_authenticated or _decide(user):
            return self.get_response(request)
        target = reverse("account_security")
        if getattr(request, "htmx", False):
            # An htmx request would swap the enrolment page into a fragment: navigate instead.
            return HttpResponseClientRedirect(target)
        messages.warning(request, ENROL_MESSAGE, fail_silently=True)
        return HttpResponseRedirect(target)
