"""Writes on second factors that are not allauth's own flows (docs/accounts.md, part 3).

allauth's views enrol and remove factors for their owner (audited by mfa_receivers.py); these
actions are what the portal adds: enrolment from a blueprint (the demo's privileged people),
the lost-factor procedure run by a référent or the DSI, recovery codes regenerated.
"""

from __future__ import annotations

from collections.abc import Sequence

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from convergence.audit import events
from convergence.audit.actions import record_event

from ..mailing import contact_address, guardian_addresses, send_account_mail
from ..mfa import HashedRecoveryCodes, decrypt_text
from ..models import User


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


def reset_second_factors(
    *, acting_user: User, user: User, checks: Sequence[str], request: HttpRequest | None
) -> list[str]:
    """Remove every second factor of ``user`` after a support identity check; returns types.

    The caller has checked delegation (``permissions.get_managed_account_or_404``) and the
    identity (what was checked is in ``checks``, recorded in the audit entry). The person (and
    a pupil's guardians) are told at their contact addresses after the commit; the person
    enrols again at next sign-in.
    """
    with transaction.atomic():
        factors = Authenticator.objects.select_for_update().filter(user=user)
        removed = sorted({factor.type for factor in factors})
        factors.delete()
        record_event(
            event_type=events.MFA_RESET_BY_SUPPORT,
            request=request,
            actor=acting_user,
            subject=user,
            data={"checks": list(checks), "removed": removed},
        )
        context = {"user": user, "actor": acting_user, "when": timezone.now()}
        # A pupil's guardians are told as well (a pupil rarely has an address of their own).
        recipients = [contact_address(user), *guardian_addresses(user)]
        transaction.on_commit(
            lambda: send_account_mail(recipients, "mfa_reset_by_support", context)
        )
    return removed
