"""allauth.mfa's signals written to the audit trail, with a mail to the person for each change.

Connected in ``MfaConfig.ready``. allauth sends its own notification mails through the
*account* adapter only when ``ACCOUNT_EMAIL_NOTIFICATIONS`` is on (it is off here): the mails
go out from these receivers, through the MFA adapter and the portal's templates.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.http import HttpRequest

from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.mfa import events
from convergence.mfa.seams import send_mfa_mail

RC = Authenticator.Type.RECOVERY_CODES


def _actor(request: HttpRequest | None, user: Any) -> Any:
    acting = getattr(request, "user", None)
    return acting if acting is not None and acting.is_authenticated else user


def audit_authenticator_added(
    sender: Any, request: HttpRequest | None, user: Any, authenticator: Authenticator, **kw: Any
) -> None:
    if authenticator.type == RC:
        # Generated with a first factor, shown on the next page: one event, no separate mail.
        record_event(
            event_type=events.MFA_RECOVERY_CODES_GENERATED,
            request=request,
            actor=_actor(request, user),
            subject=user,
            data={"automatic": True},
        )
        return
    record_event(
        event_type=events.MFA_ENABLED,
        request=request,
        actor=_actor(request, user),
        subject=user,
        data={"type": authenticator.type, "id": authenticator.pk},
    )
    if isinstance(user, User):
        prefix = "totp_activated" if authenticator.type == "totp" else "webauthn_added"
        send_mfa_mail(user, f"mfa/email/{prefix}")


def audit_authenticator_removed(
    sender: Any, request: HttpRequest | None, user: Any, authenticator: Authenticator, **kw: Any
) -> None:
    record_event(
        event_type=events.MFA_REMOVED,
        request=request,
        actor=_actor(request, user),
        subject=user,
        data={"type": authenticator.type},
    )
    if isinstance(user, User) and authenticator.type != RC:
        prefix = "totp_deactivated" if authenticator.type == "totp" else "webauthn_removed"
        send_mfa_mail(user, f"mfa/email/{prefix}")


def audit_authenticator_reset(
    sender: Any, request: HttpRequest | None, user: Any, authenticator: Authenticator, **kw: Any
) -> None:
    if authenticator.type != RC:
        return
    record_event(
        event_type=events.MFA_RECOVERY_CODES_GENERATED,
        request=request,
        actor=_actor(request, user),
        subject=user,
    )
    if isinstance(user, User):
        send_mfa_mail(user, "mfa/email/recovery_codes_generated")


def audit_authenticator_used(
    sender: Any, request: HttpRequest | None, user: Any, authenticator: Authenticator, **kw: Any
) -> None:
    if authenticator.type != RC:
        return  # the sign-in itself is audited (LOGIN_SUCCEEDED)
    # The instance the form validated is not the one marked used (re-read under a lock).
    current = Authenticator.objects.filter(pk=authenticator.pk).first()
    remaining = current.wrap().unused_count if current is not None else 0
    record_event(
        event_type=events.MFA_RECOVERY_CODE_USED,
        request=request,
        actor=user,
        subject=user,
        data={"remaining": remaining, "reauthenticated": bool(kw.get("reauthenticated"))},
    )


def audit_authentication_failed(
    sender: Any, request: HttpRequest | None, user: Any, authenticator: Authenticator, **kw: Any
) -> None:
    record_event(
        event_type=events.MFA_FAILED,
        request=request,
        subject=user,
        data={
            "type": authenticator.type,
            "reauthentication": bool(kw.get("reauthentication")),
        },
    )


def connect() -> None:
    from allauth.mfa import signals

    signals.authenticator_added.connect(audit_authenticator_added, dispatch_uid="mfa_added")
    signals.authenticator_removed.connect(audit_authenticator_removed, dispatch_uid="mfa_rm")
    signals.authenticator_reset.connect(audit_authenticator_reset, dispatch_uid="mfa_reset")
    signals.authenticator_used.connect(audit_authenticator_used, dispatch_uid="mfa_used")
    signals.authentication_failed.connect(audit_authentication_failed, dispatch_uid="mfa_fail")
