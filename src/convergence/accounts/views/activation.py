"""Activation pages (letter code → password → recovery contacts) and "Moyens de secours".

Which step a browser has reached is kept in its session, never in an address: step 1 stores
the account and the (unused) code row once login, code and birth date were right; step 2
uses the code up; step 3 only lets the new owner add recovery contacts for a few minutes.
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from convergence.accounts import actions, passwords
from convergence.accounts.errors import ACTIVATION_REFUSED
from convergence.accounts.forms.activation import (
    ActivationCodeForm,
    ActivationPasswordForm,
    ContactConfirmationForm,
    RecoveryEmailForm,
    RecoveryPhoneForm,
)
from convergence.accounts.http import AuthenticatedRequest
from convergence.accounts.models import OneTimeCode, OneTimeCodePurpose, User
from convergence.core import errors, ratelimit
from convergence.core.http import client_ip
from convergence.outbox import sms

SESSION_KEY = "convergence_activation"
# How long a verified step stays valid in the session.
STEP_SECONDS = 20 * 60
# Failed activations allowed per client address in a window (a school shares one address).
IP_FAILURES = 30
IP_WINDOW_SECONDS = 15 * 60
# Confirmation codes sent per account in a window (each one is an e-mail or an SMS).
SENDS_PER_WINDOW = 5
SENDS_WINDOW_SECONDS = 60 * 60


def _reserve_attempt(request: HttpRequest) -> str | None:
    """Take a place among the address's failures before the attempt is judged; the counter to
    give it back to (a success or a form refused unread), or None once the address has had
    ``IP_FAILURES`` failures in the window. Reserving first means parallel attempts cannot
    all slip in under the limit."""
    counter = ratelimit.key("activation:failures", client_ip(request))
    if ratelimit.reserve(counter, window=IP_WINDOW_SECONDS) > IP_FAILURES:
        ratelimit.release(counter)
        return None
    return counter


def _may_send(user: User) -> bool:
    """Take a place for one confirmation message to ``user`` (a request asking for one counts,
    sent or not); False, the place given back, once the window's ``SENDS_PER_WINDOW`` are
    spent."""
    counter = ratelimit.key("activation:sends", user.pk)
    if ratelimit.reserve(counter, window=SENDS_WINDOW_SECONDS) > SENDS_PER_WINDOW:
        ratelimit.release(counter)
        return False
    return True


def _step(request: HttpRequest, name: str) -> dict[str, Any] | None:
    state = request.session.get(SESSION_KEY)
    if (
        not isinstance(state, dict)
        or state.get("step") != name
        or time.time() - float(state.get("at", 0)) > STEP_SECONDS
    ):
        return None
    return state


def pending_activation_user(request: HttpRequest) -> User | None:
    """The account whose password is being chosen at step 2 in this session, if any.

    Lets the strength meter judge against that account's policy (a pupil's is not a staff
    member's) although nobody is signed in yet.
    """
    state = _step(request, "password")
    return User.objects.filter(pk=state["user"]).first() if state else None


def _expired(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    messages.warning(
        request,
        _(
            "Cette étape a expiré ou a déjà été franchie. Recommencez avec votre lettre "
            "d'activation."
        ),
    )
    return redirect("accounts:activation")


@never_cache
def activation(request: HttpRequest) -> HttpResponse:
    """Step 1: login, code and (pupils) birth date; one same error whatever is wrong."""
    status = 200
    error = ""
    error_code: errors.ErrorCode | None = None
    if request.method == "POST":
        form = ActivationCodeForm(request.POST)
        attempt = _reserve_attempt(request)
        if attempt is None:
            error = _(
                "Trop d'essais infructueux depuis cette connexion. Patientez un quart d'heure "
                "avant de réessayer."
            )
            status = errors.THROTTLED.status
            error_code = errors.THROTTLED
        elif form.is_valid():
            data = form.cleaned_data
            try:
                ticket = actions.verify_activation(
                    login=data["identifiant"],
                    code=data["code"],
                    birth_date=data["date_naissance"],
                    request=request,
                )
            except actions.ActivationError as failure:
                error = failure.message  # the reserved place stays: a failure counted
                status = ACTIVATION_REFUSED.status
                error_code = ACTIVATION_REFUSED
            else:
                ratelimit.release(attempt)
                request.session.cycle_key()
                request.session[SESSION_KEY] = {
                    "step": "password",
                    "user": ticket.user.pk,
                    "code": ticket.code.pk,
                    "at": time.time(),
                }
                return redirect("accounts:activation_password")
        else:
            ratelimit.release(attempt)
            status = 400
    else:
        form = ActivationCodeForm(initial={"identifiant": request.GET.get("identifiant", "")[:64]})
    if error_code is not None:
        errors.remember(request, error_code.code)
    response = render(
        request,
        "accounts/activation/start.html",
        {
            "form": form,
            "error": error,
            "throttled": status == errors.THROTTLED.status,
            "error_code": error_code,
            "step": 1,
        },
        status=status,
    )
    if status == errors.THROTTLED.status:
        response.headers["Retry-After"] = str(IP_WINDOW_SECONDS)
    return response


@never_cache
def activation_password(request: HttpRequest) -> HttpResponse:
    """Step 2: choose a password under the policy; the code is used up here."""
    state = _step(request, "password")
    if state is None:
        return _expired(request)
    user = User.objects.filter(pk=state["user"]).first()
    code = OneTimeCode.objects.filter(
        pk=state["code"], user_id=state["user"], purpose=OneTimeCodePurpose.ACTIVATION
    ).first()
    if user is None or code is None:
        return _expired(request)
    status = 200
    if request.method == "POST":
        form = ActivationPasswordForm(request.POST, user=user, code=code)
        if form.is_valid():
            ticket = actions.ActivationTicket(user=user, code=code)
            try:
                actions.complete_activation(
                    ticket=ticket, new_password=form.cleaned_data["password1"], request=request
                )
            except actions.ActivationError:
                return _expired(request)
            request.session[SESSION_KEY] = {"step": "recovery", "user": user.pk, "at": time.time()}
            return redirect("accounts:activation_recovery")
        status = 400
    else:
        form = ActivationPasswordForm(user=user, code=code)
    return render(
        request,
        "accounts/activation/password.html",
        {
            "form": form,
            "account": user,
            "password_policy_help": passwords.policy_for(user).description,
            "step": 2,
        },
        status=status,
    )


def _handle_contact_post(request: HttpRequest, user: User) -> tuple[dict[str, Any], int]:
    """Apply one recovery-contact action from a POST; the forms to show again, and a status."""
    action = request.POST.get("action", "")
    bound: dict[str, Any] = {}
    if action in {"email", "phone"} and not _may_send(user):
        messages.error(
            request,
            _("Trop de codes envoyés pour ce compte. Réessayez dans une heure."),
        )
        return bound, errors.THROTTLED.status
    if action == "email":
        email_form = RecoveryEmailForm(request.POST)
        if not email_form.is_valid():
            bound["email_form"] = email_form
            return bound, 400
        actions.set_recovery_email(
            user=user, email=email_form.cleaned_data["email"], request=request
        )
        messages.info(
            request,
            _("Un code de confirmation a été envoyé à %(email)s. Saisissez-le ci-dessous.")
            % {"email": email_form.cleaned_data["email"]},
        )
    elif action == "phone":
        phone_form = RecoveryPhoneForm(request.POST)
        if not phone_form.is_valid():
            bound["phone_form"] = phone_form
            return bound, 400
        try:
            actions.set_recovery_phone(
                user=user, phone=phone_form.cleaned_data["telephone"], request=request
            )
        except (actions.RecoveryContactError, ValidationError) as failure:
            message = getattr(failure, "message", str(failure))
            messages.error(request, message)
            return bound, 503
        messages.info(
            request,
            _("Un code de confirmation a été envoyé par SMS au %(phone)s. Saisissez-le ci-dessous.")
            % {"phone": sms.mask_phone(phone_form.cleaned_data["telephone"])},
        )
    elif action == "confirm":
        confirm_form = ContactConfirmationForm(request.POST)
        if not confirm_form.is_valid():
            bound["confirm_form"] = confirm_form
            return bound, 400
        kind = confirm_form.cleaned_data["kind"]
        try:
            actions.confirm_recovery_contact(
                user=user, kind=kind, code=confirm_form.cleaned_data["code"], request=request
            )
        except actions.RecoveryContactError as failure:
            confirm_form.add_error("code", failure.message)
            bound["confirm_form"] = confirm_form
            bound["confirm_kind"] = kind
            return bound, 400
        messages.success(
            request,
            _("Votre adresse de secours est confirmée.")
            if kind == "email"
            else _("Votre téléphone de secours est confirmé."),
        )
    elif action == "remove_email":
        actions.set_recovery_email(user=user, email="", request=request)
        messages.success(request, _("L'adresse de secours a été retirée."))
    elif action == "remove_phone":
        actions.set_recovery_phone(user=user, phone="", request=request)
        messages.success(request, _("Le téléphone de secours a été retiré."))
    else:
        return bound, 400
    return {}, 302


def _contacts_context(user: User, bound: dict[str, Any]) -> dict[str, Any]:
    return {
        "account": user,
        "email_form": bound.get("email_form") or RecoveryEmailForm(),
        "phone_form": bound.get("phone_form") or RecoveryPhoneForm(),
        "confirm_email_form": (
            bound["confirm_form"]
            if bound.get("confirm_kind") == "email"
            else ContactConfirmationForm(initial={"kind": "email"})
        ),
        "confirm_phone_form": (
            bound["confirm_form"]
            if bound.get("confirm_kind") == "phone"
            else ContactConfirmationForm(initial={"kind": "phone"})
        ),
        "masked_phone": sms.mask_phone(user.recovery_phone) if user.recovery_phone else "",
    }


@never_cache
def activation_recovery(request: HttpRequest) -> HttpResponse:
    """Step 3 (optional): recovery e-mail and phone, each confirmed by a code."""
    state = _step(request, "recovery")
    if state is None:
        return _expired(request)
    user = User.objects.filter(pk=state["user"]).first()
    if user is None:
        return _expired(request)
    bound: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "finish":
            request.session.pop(SESSION_KEY, None)
            messages.success(
                request,
                _(
                    "Votre compte est activé. Connectez-vous avec votre identifiant %(login)s "
                    "et le mot de passe que vous venez de choisir."
                )
                % {"login": user.login},
            )
            return redirect("account_login")
        bound, status = _handle_contact_post(request, user)
        if status == 302:
            return redirect("accounts:activation_recovery")
    context = _contacts_context(user, bound)
    context.update({"step": 3, "form_action": "accounts:activation_recovery"})
    return render(request, "accounts/activation/recovery.html", context, status=status)


@login_required
@never_cache
def account_recovery(request: AuthenticatedRequest) -> HttpResponse:
    """A signed-in person's recovery e-mail and phone: add, confirm, replace, remove."""
    user = request.user
    bound: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        bound, status = _handle_contact_post(request, user)
        if status == 302:
            return redirect("accounts:recovery")
    context = _contacts_context(user, bound)
    context["form_action"] = "accounts:recovery"
    return render(request, "accounts/activation/account_recovery.html", context, status=status)
