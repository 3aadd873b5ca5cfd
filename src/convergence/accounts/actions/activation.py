"""Activation: codes printed on letters, activating an account, recovery contacts.

An invited account gets a one-time activation code on a letter (``provisioning/letters.py``);
its owner types their login, the code (and, for a pupil, their birth date) on ``/activation/``,
then chooses a password under the policy, then may add a recovery e-mail address or mobile number,
confirmed by a code sent there. Every step is audited; a wrong login, code, birth date or a
closed account all get one same French answer, so nothing tells whether an account exists.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from convergence.accounts import codes, events, passwords
from convergence.accounts.models import (
    AccountState,
    Assignment,
    OneTimeCode,
    OneTimeCodePurpose,
    Role,
    User,
)
from convergence.audit.actions import record_event
from convergence.outbox import mail, sms

ACTIVATION_FAILED_MESSAGE = _(
    "Ces informations ne permettent pas d'activer un compte. Vérifiez l'identifiant et le "
    "code d'activation inscrits sur votre lettre et, pour un élève, la date de naissance. "
    "Après plusieurs erreurs, le code n'est plus valable : demandez alors une nouvelle lettre."
)
# States an activation code may (re)open: a reprinted letter lets an active account choose a
# new password; suspended and archived accounts stay closed.
ACTIVATABLE_STATES = frozenset({AccountState.INVITED, AccountState.ACTIVE})
CONFIRMATION_CODE_LIFETIME = datetime.timedelta(minutes=30)

ContactKind = Literal["email", "phone"]


class ActivationError(Exception):
    """Activation refused; ``message`` is the one French text shown, whatever went wrong."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or str(ACTIVATION_FAILED_MESSAGE)
        super().__init__(self.message)


class RecoveryContactError(Exception):
    """A recovery contact could not be set or confirmed; ``message`` is French."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class ActivationTicket:
    """Proof that step 1 succeeded: whose account, with which (still unused) code."""

    user: User
    code: OneTimeCode


def activation_lifetime() -> datetime.timedelta:
    return datetime.timedelta(days=settings.ACTIVATION_CODE_DAYS)


def is_pupil(user: User) -> bool:
    """Whether the account is a pupil's (then its birth date is asked at activation)."""
    return Assignment.objects.filter(user=user, role=Role.ELEVE).exists()


def issue_activation_code(
    *,
    acting_user: User | None,
    user: User,
    request: HttpRequest | None = None,
    batch_id: int | None = None,
    now: datetime.datetime | None = None,
) -> tuple[str, datetime.datetime]:
    """A new activation code for ``user`` and when it expires; their older ones die.

    One transaction; audited as ``activation.letter_issued``. The code is returned in clear
    to be printed, never stored or logged.
    """
    now = now or timezone.now()
    lifetime = activation_lifetime()
    with transaction.atomic():
        code = codes.issue_code(
            user,
            OneTimeCodePurpose.ACTIVATION,
            lifetime=lifetime,
            created_by=acting_user,
            now=now,
        )
        data: dict[str, object] = {"state": user.state}
        if batch_id is not None:
            data["batch"] = batch_id
        record_event(
            event_type=events.ACTIVATION_LETTER_ISSUED,
            request=request,
            actor=acting_user,
            subject=user,
            data=data,
        )
    return code, now + lifetime


def _fail(
    *,
    request: HttpRequest | None,
    login: str,
    user: User | None,
    reason: str,
) -> ActivationError:
    record_event(
        event_type=events.ACTIVATION_FAILED,
        request=request,
        subject=user,
        identifier=login,
        data={"reason": reason},
    )
    return ActivationError()


def verify_activation(
    *,
    login: str,
    code: str,
    birth_date: datetime.date | None,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> ActivationTicket:
    """Step 1: check login, code and (pupils) birth date without using the code up.

    Raises ``ActivationError`` (one message for every cause), audited as
    ``activation.failed``; a wrong code or birth date counts one attempt on the account's
    code, and the fifth kills it.
    """
    now = now or timezone.now()
    login = login.strip().lower()
    user = User.objects.filter(login=login).first()
    if user is None:
        raise _fail(request=request, login=login, user=None, reason="unknown_login")
    if user.state not in ACTIVATABLE_STATES:
        raise _fail(request=request, login=login, user=user, reason="state")
    found = codes.find_code(user, OneTimeCodePurpose.ACTIVATION, code, now=now)
    if found is None:
        raise _fail(request=request, login=login, user=user, reason="code")
    if user.birth_date is not None and is_pupil(user) and birth_date != user.birth_date:
        codes.count_failure(found, now=now)
        raise _fail(request=request, login=login, user=user, reason="birth_date")
    return ActivationTicket(user=user, code=found)


def password_is_code(code: OneTimeCode, password: str) -> bool:
    """Whether ``password`` is the activation code itself (case, spaces, dashes ignored)."""
    return codes.matches(code, password)


def complete_activation(
    *,
    ticket: ActivationTicket,
    new_password: str,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> User:
    """Step 2: use the code up, set the password and open the account, in one transaction.

    The password must already satisfy the policy (the form checks it); it is refused here
    too if it is the code. Audited as ``account.activated``. Raises ``ActivationError`` if the
    code was used, expired or killed meanwhile.
    """
    now = now or timezone.now()
    if password_is_code(ticket.code, new_password):
        raise ActivationError(gettext("Le code d'activation ne peut pas servir de mot de passe."))
    failure = ""
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=ticket.user.pk).first()
        if user is None or user.state not in ACTIVATABLE_STATES:
            failure = "state"
        elif not codes.use_code(ticket.code, now=now):
            failure = "code_used"
        else:
            was_active = user.state == AccountState.ACTIVE
            user.set_password(passwords.normalise(new_password))
            user.state = AccountState.ACTIVE
            user.save(update_fields=["password", "state"])
            record_event(
                event_type=events.ACCOUNT_ACTIVATED,
                request=request,
                actor=user,
                subject=user,
                data={"reactivation": was_active},
            )
    if failure or user is None:
        # Audited outside the transaction above, which had nothing to undo.
        raise _fail(request=request, login=ticket.user.login, user=user, reason=failure)
    return user


def activate_account(
    *,
    login: str,
    code: str,
    birth_date: datetime.date | None,
    new_password: str,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> User:
    """Both steps at once (commands, API, tests): verify, then activate. See the steps."""
    ticket = verify_activation(
        login=login, code=code, birth_date=birth_date, request=request, now=now
    )
    return complete_activation(ticket=ticket, new_password=new_password, request=request, now=now)


def _purpose(kind: ContactKind) -> str:
    return OneTimeCodePurpose.CONFIRM_EMAIL if kind == "email" else OneTimeCodePurpose.CONFIRM_PHONE


def _replace_recovery_contact(
    *, user: User, kind: str, value: str, request: HttpRequest | None
) -> str | None:
    """Store an unconfirmed recovery contact and issue its confirmation code (None: removed).

    Shared by the e-mail and phone variants; the caller is inside a transaction.
    """
    purpose = (
        OneTimeCodePurpose.CONFIRM_EMAIL if kind == "email" else OneTimeCodePurpose.CONFIRM_PHONE
    )
    field = f"recovery_{kind}"
    setattr(user, field, value)
    setattr(user, f"{field}_confirmed_at", None)
    user.save(update_fields=[field, f"{field}_confirmed_at"])
    codes.invalidate_codes(user, purpose)
    record_event(
        event_type=events.RECOVERY_CONTACT_CHANGED,
        request=request,
        actor=user,
        subject=user,
        data={"kind": kind, "removed": not value},
    )
    if not value:
        return None
    return codes.issue_code(
        user, purpose, lifetime=CONFIRMATION_CODE_LIFETIME, target=value, kind=codes.CodeKind.DIGITS
    )


def set_recovery_email(*, user: User, email: str, request: HttpRequest | None = None) -> None:
    """Record an unconfirmed recovery address and mail it a 6-digit confirmation code.

    One transaction; audited as ``recovery.contact_changed``; the mail leaves after commit.
    An empty ``email`` removes the address.
    """
    email = email.strip().lower()
    with transaction.atomic():
        code = _replace_recovery_contact(user=user, kind="email", value=email, request=request)
        if code is None:
            return
        context = {
            "user": user,
            "confirmation_code": code,
            "minutes": int(CONFIRMATION_CODE_LIFETIME.total_seconds() // 60),
        }
        transaction.on_commit(
            lambda: mail.send([email], "accounts/mail/recovery_confirm_email", context)
        )


def set_recovery_phone(*, user: User, phone: str, request: HttpRequest | None = None) -> None:
    """Record an unconfirmed recovery mobile number and text it a 6-digit confirmation code.

    ``phone`` is normalised (``sms.normalise_french_mobile``, which raises a French
    ``ValidationError``); empty removes the number. One transaction; audited as
    ``recovery.contact_changed``. Raises ``RecoveryContactError`` if the SMS cannot leave
    (then nothing is saved).
    """
    number = sms.normalise_french_mobile(phone) if phone.strip() else ""
    with transaction.atomic():
        code = _replace_recovery_contact(user=user, kind="phone", value=number, request=request)
        if code is None:
            return
        body = gettext(
            "%(academie)s : votre code de confirmation est %(code)s. Il est valable "
            "%(minutes)d minutes. Ne le communiquez à personne."
        ) % {
            "academie": settings.ACADEMIE_NAME,
            "code": code,
            "minutes": int(CONFIRMATION_CODE_LIFETIME.total_seconds() // 60),
        }
        try:
            # Sent inside the transaction: if the provider refuses, nothing is saved.
            sms.send_sms(number, body)
        except sms.SmsError:
            raise RecoveryContactError(
                gettext(
                    "Le SMS de confirmation n'a pas pu être envoyé. Réessayez dans quelques "
                    "minutes."
                )
            ) from None


def confirm_recovery_contact(
    *,
    user: User,
    kind: ContactKind,
    code: str,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> None:
    """Confirm the recovery address or number with the code sent there.

    The code must have been sent to the current address or number. One transaction; audited
    as ``recovery.contact_confirmed``. Raises ``RecoveryContactError`` (French) otherwise;
    five wrong codes kill the code.
    """
    now = now or timezone.now()
    target = user.recovery_email if kind == "email" else user.recovery_phone
    if not target:
        raise RecoveryContactError(gettext("Aucun moyen de secours à confirmer."))
    # Outside any transaction: a wrong code's attempt must be counted even though it fails.
    found = codes.redeem_code(user, _purpose(kind), code, target=target, now=now)
    if found is None:
        raise RecoveryContactError(
            gettext(
                "Ce code de confirmation n'est pas valable : vérifiez-le, ou demandez-en "
                "un nouveau."
            )
        )
    with transaction.atomic():
        if kind == "email":
            user.recovery_email_confirmed_at = now
            user.save(update_fields=["recovery_email_confirmed_at"])
        else:
            user.recovery_phone_confirmed_at = now
            user.save(update_fields=["recovery_phone_confirmed_at"])
        record_event(
            event_type=events.RECOVERY_CONTACT_CONFIRMED,
            request=request,
            actor=user,
            subject=user,
            data={"kind": kind},
        )
