"""Writes on second factors that are not allauth's own flows (docs/accounts.md, part 3).

allauth's views enrol and remove factors for their owner (audited by mfa_receivers.py); these
actions are what the portal adds: enrolment from a blueprint (the demo's privileged people),
the lost-factor procedure run by a référent or the DSI, recovery codes regenerated.

The lost-factor procedure (docs/security.md, "Délégation et second facteur perdu"):

* an ordinary account (a pupil, a parent: not ``User.objects.protected()``) — one operator
  within delegation, after an identity check: :func:`reset_second_factors`;
* a protected account (staff in any school year, a role that requires a factor, admin
  access) — never one person alone: either four-eyes (:func:`request_second_factor_reset`
  by one DSI, :func:`approve_second_factor_reset` by *another*, within
  ``RESET_REQUEST_LIFETIME``), or a code sent to the person's own confirmed recovery address
  that the operator types in (:func:`send_second_factor_reset_code`,
  :func:`reset_second_factors_with_code`).

Each step is audited; each refusal too (``record_refusal``, rate-limited).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convergence.accounts import codes
from convergence.accounts.mailing import dsi_people
from convergence.accounts.models import OneTimeCodePurpose, User
from convergence.audit.actions import record_event, record_refusal
from convergence.core.notify import Category, notify_template
from convergence.mfa import events
from convergence.mfa.models import ResetRequestState, SecondFactorResetRequest
from convergence.mfa.seams import HashedRecoveryCodes, decrypt_text
from convergence.outbox import mail

# How long a four-eyes request waits for a second DSI.
RESET_REQUEST_LIFETIME = datetime.timedelta(hours=24)
# How long the code sent to the person's confirmed address stays valid.
RESET_CODE_LIFETIME = datetime.timedelta(minutes=15)


class SecondFactorResetError(Exception):
    """A step of the lost-factor procedure that cannot be done; ``message`` is in French."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_protected(user: User) -> bool:
    """Whether removing ``user``'s factors needs a second person (``User.objects.protected``)."""
    return User.objects.protected().filter(pk=user.pk).exists()


@transaction.atomic
def enrol_totp(*, acting_user: User | None, user: User, secret: str) -> bool:
    """Give ``user`` a TOTP factor with ``secret`` (base32); True if something changed.

    Idempotent: the same secret twice changes nothing; another secret replaces the old one.
    """
    existing = (
        Authenticator.objects.select_for_update()
        .filter(user=user, type=Authenticator.Type.TOTP)
        .first()
    )
    if existing is not None:
        try:
            same = decrypt_text(existing.data["secret"]) == secret
        except ValueError:
            same = False
        if same:
            return False
        existing.delete()
    authenticator = TOTP.activate(user, secret).instance
    record_event(
        event_type=events.MFA_ENABLED,
        actor=acting_user,
        subject=user,
        data={"type": authenticator.type, "id": authenticator.pk, "enrolled_by": "blueprint"},
    )
    return True


def issue_recovery_codes(*, user: User) -> list[str]:
    """Replace ``user``'s recovery codes with fresh ones and return them, the only time in clear.

    For scripts and tests; people use the "Codes de secours" page, which goes through allauth's
    flow (reauthentication, signal, mail).
    """
    with transaction.atomic():
        Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).delete()
        _wrapper, plain = HashedRecoveryCodes.issue(user)
        record_event(event_type=events.MFA_RECOVERY_CODES_GENERATED, actor=user, subject=user)
    return plain


def regenerate_recovery_codes(*, request: HttpRequest) -> Authenticator:
    """The signed-in person's new recovery codes, through allauth's flow.

    allauth deletes the old set, activates a new one (ours: hashed, see mfa.py) and sends
    ``authenticator_reset`` (audited and mailed by mfa_receivers.py) after the commit.
    """
    from allauth.mfa.recovery_codes.internal import flows

    authenticator: Authenticator = flows.generate_recovery_codes(request)
    return authenticator


def _remove_factors(
    *,
    acting_user: User,
    user: User,
    request: HttpRequest | None,
    data: dict[str, object],
) -> list[str]:
    """Remove every factor of ``user``, audit it, tell the person after commit (in the
    caller's transaction)."""
    factors = Authenticator.objects.select_for_update().filter(user=user)
    removed = sorted({factor.type for factor in factors})
    factors.delete()
    record_event(
        event_type=events.MFA_RESET_BY_SUPPORT,
        request=request,
        actor=acting_user,
        subject=user,
        data={**data, "removed": removed},
    )
    context = {"user": user, "actor": acting_user, "when": timezone.now()}
    # A pupil's guardians are told as well (a pupil rarely has an address of their own).
    notify_template(
        [user, *User.objects.guardians_of(user)],
        "mfa/mail/mfa_reset_by_support",
        context,
        category=Category.SECURITE,
        url=reverse("mfa_index"),
    )
    return removed


def reset_second_factors(
    *, acting_user: User, user: User, checks: Sequence[str], request: HttpRequest | None
) -> list[str]:
    """Remove every second factor of an ordinary ``user`` after a support identity check;
    returns the types removed.

    The caller has checked delegation (``permissions.get_managed_account_or_404``) and the
    identity (what was checked is in ``checks``, recorded in the audit entry). A protected
    account raises ``SecondFactorResetError``: it needs a second person (see the module).
    The person (and a pupil's guardians) are told at their contact addresses after the
    commit; the person enrols again at next sign-in.
    """
    with transaction.atomic():
        if is_protected(user):
            raise SecondFactorResetError(
                str(_("Ce compte est protégé : le retrait demande l'approbation d'un second DSI."))
            )
        return _remove_factors(
            acting_user=acting_user, user=user, request=request, data={"checks": list(checks)}
        )


def _expire_stale_requests(user: User, now: datetime.datetime) -> None:
    stale = SecondFactorResetRequest.objects.filter(
        user=user, state=ResetRequestState.PENDING, expires_at__lte=now
    )
    for stale_request in stale.select_for_update():
        stale_request.state = ResetRequestState.EXPIRED
        stale_request.decided_at = now
        stale_request.save(update_fields=["state", "decided_at"])
        record_event(
            event_type=events.MFA_RESET_EXPIRED,
            subject=user,
            data={"request": stale_request.pk},
        )


def request_second_factor_reset(
    *,
    acting_user: User,
    user: User,
    checks: Sequence[str],
    request: HttpRequest | None,
    now: datetime.datetime | None = None,
) -> SecondFactorResetRequest:
    """Ask a second DSI to remove the factors of protected ``user``; nothing is removed yet.

    One transaction: stale requests of the account are marked expired, the request is
    created (valid ``RESET_REQUEST_LIFETIME``), audited ``mfa.reset_requested``; the other
    DSIs are told by e-mail after commit. Raises ``SecondFactorResetError`` for a request on
    one's own account or when one is already waiting.
    """
    now = now or timezone.now()
    if user.pk == acting_user.pk:
        record_refusal(
            kind="mfa_reset_own_account", request=request, actor=acting_user, target=user.pk
        )
        raise SecondFactorResetError(
            str(_("Vous ne pouvez pas demander le retrait de vos propres seconds facteurs."))
        )
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        _expire_stale_requests(user, now)
        if SecondFactorResetRequest.objects.open(now=now).filter(user=user).exists():
            raise SecondFactorResetError(
                str(_("Une demande de retrait est déjà en attente pour ce compte."))
            )
        reset_request = SecondFactorResetRequest.objects.create(
            user=user,
            requested_by=acting_user,
            checks=list(checks),
            created_at=now,
            expires_at=now + RESET_REQUEST_LIFETIME,
        )
        record_event(
            event_type=events.MFA_RESET_REQUESTED,
            request=request,
            actor=acting_user,
            subject=user,
            data={"request": reset_request.pk, "checks": list(checks)},
        )
        notify_template(
            dsi_people(excluding=[acting_user, user]),
            "mfa/mail/mfa_reset_requested",
            {"user": user, "actor": acting_user, "reset_request": reset_request},
            category=Category.SECURITE,
            url=reverse("second_factor:reset_request", args=[reset_request.pk]),
        )
    return reset_request


def _locked_open_request(
    reset_request: SecondFactorResetRequest, now: datetime.datetime
) -> SecondFactorResetRequest:
    locked = SecondFactorResetRequest.objects.select_for_update().get(pk=reset_request.pk)
    if locked.state != ResetRequestState.PENDING or locked.expires_at <= now:
        raise SecondFactorResetError(
            str(_("Cette demande n'est plus en attente : elle a été traitée ou a expiré."))
        )
    return locked


def _decide(
    reset_request: SecondFactorResetRequest,
    *,
    state: ResetRequestState,
    acting_user: User,
    now: datetime.datetime,
) -> SecondFactorResetRequest:
    """In the caller's transaction: lock the still-open request and record who closed it."""
    locked = _locked_open_request(reset_request, now)
    locked.state = state
    locked.decided_by = acting_user
    locked.decided_at = now
    locked.save(update_fields=["state", "decided_by", "decided_at"])
    return locked


def approve_second_factor_reset(
    *,
    acting_user: User,
    reset_request: SecondFactorResetRequest,
    request: HttpRequest | None,
    now: datetime.datetime | None = None,
) -> list[str]:
    """A second DSI approves: every factor of the account is removed; returns the types.

    Four-eyes: the requester, and the person whose factors they are, can never approve
    (refused, audited ``access.refused``); nor can anyone outside their delegation. One
    transaction: the request marked approved, ``mfa.reset_approved`` and
    ``mfa.reset_by_support`` audited, the person told after commit.
    """
    now = now or timezone.now()
    user = reset_request.user
    if acting_user.pk in {reset_request.requested_by_id, user.pk}:
        record_refusal(
            kind="mfa_reset_self_approval",
            request=request,
            actor=acting_user,
            target=user.pk,
            data={"request": reset_request.pk},
        )
        raise SecondFactorResetError(
            str(_("Une autre personne que l'auteur de la demande doit l'approuver."))
        )
    if not User.objects.managed_by(acting_user).filter(pk=user.pk).exists():
        record_refusal(
            kind="mfa_reset_approval", request=request, actor=acting_user, target=user.pk
        )
        raise SecondFactorResetError(str(_("Ce compte n'est pas dans votre périmètre.")))
    with transaction.atomic():  # an expired request is marked so, whatever comes next
        _expire_stale_requests(reset_request.user, now)
    with transaction.atomic():
        locked = _decide(
            reset_request, state=ResetRequestState.APPROVED, acting_user=acting_user, now=now
        )
        record_event(
            event_type=events.MFA_RESET_APPROVED,
            request=request,
            actor=acting_user,
            subject=user,
            data={"request": locked.pk, "requested_by": locked.requested_by_id},
        )
        return _remove_factors(
            acting_user=acting_user,
            user=user,
            request=request,
            data={
                "checks": list(locked.checks),
                "request": locked.pk,
                "requested_by": locked.requested_by_id,
                "approved_by": acting_user.pk,
            },
        )


def refuse_second_factor_reset(
    *,
    acting_user: User,
    reset_request: SecondFactorResetRequest,
    request: HttpRequest | None,
    now: datetime.datetime | None = None,
) -> SecondFactorResetRequest:
    """A DSI (the requester too: it withdraws it) refuses a waiting request; audited
    ``mfa.reset_refused``; nothing else changes."""
    now = now or timezone.now()
    with transaction.atomic():  # an expired request is marked so, whatever comes next
        _expire_stale_requests(reset_request.user, now)
    with transaction.atomic():
        locked = _decide(
            reset_request, state=ResetRequestState.REFUSED, acting_user=acting_user, now=now
        )
        record_event(
            event_type=events.MFA_RESET_REFUSED,
            request=request,
            actor=acting_user,
            subject=locked.user,
            data={"request": locked.pk, "requested_by": locked.requested_by_id},
        )
    return locked


def confirmed_recovery_email(user: User) -> str:
    """The person's own confirmed recovery address, or "" (a code can go nowhere else)."""
    return user.recovery_email if user.recovery_email_confirmed_at else ""


def send_second_factor_reset_code(
    *, acting_user: User, user: User, request: HttpRequest | None
) -> None:
    """Send a 6-digit code to the person's confirmed recovery address, for the operator to
    type in once the person reads it out (the path that works with a single DSI).

    One transaction: earlier codes die, the code is stored as a digest
    (``OneTimeCodePurpose.MFA_RESET``, ``RESET_CODE_LIFETIME``), ``mfa.reset_code_sent``
    audited, the mail sent after commit. Raises ``SecondFactorResetError`` without a
    confirmed address.
    """
    address = confirmed_recovery_email(user)
    if not address:
        raise SecondFactorResetError(
            str(_("Cette personne n'a pas d'adresse de secours confirmée."))
        )
    with transaction.atomic():
        code = codes.issue_code(
            user,
            OneTimeCodePurpose.MFA_RESET,
            lifetime=RESET_CODE_LIFETIME,
            target=address,
            created_by=acting_user,
            kind=codes.CodeKind.DIGITS,
        )
        record_event(
            event_type=events.MFA_RESET_CODE_SENT,
            request=request,
            actor=acting_user,
            subject=user,
            data={"channel": "recovery_email"},
        )
        context = {
            "user": user,
            "actor": acting_user,
            "reset_code": code,
            "minutes": int(RESET_CODE_LIFETIME.total_seconds() // 60),
        }
        transaction.on_commit(lambda: mail.send([address], "mfa/mail/mfa_reset_code", context))


def reset_second_factors_with_code(
    *, acting_user: User, user: User, code: str, request: HttpRequest | None
) -> list[str]:
    """Remove every factor of ``user`` once the operator typed the code sent to the person's
    confirmed address; returns the types removed.

    A wrong, used or expired code raises ``SecondFactorResetError`` and is audited
    (``access.refused``); five misses kill the code. Otherwise one transaction: the code used
    up, the factors removed, ``mfa.reset_by_support`` audited, the person told after commit.
    """
    address = confirmed_recovery_email(user)
    found = (
        codes.find_code(user, OneTimeCodePurpose.MFA_RESET, code, target=address)
        if address
        else None
    )
    wrong = SecondFactorResetError(
        str(_("Ce code n'est pas le bon, ou il a expiré : rien n'a été retiré."))
    )
    if found is None:
        record_refusal(
            kind="mfa_reset_wrong_code", request=request, actor=acting_user, target=user.pk
        )
        raise wrong
    with transaction.atomic():
        if not codes.use_code(found):
            raise wrong
        return _remove_factors(
            acting_user=acting_user,
            user=user,
            request=request,
            data={"checks": ["contact_code"], "channel": "recovery_email"},
        )
