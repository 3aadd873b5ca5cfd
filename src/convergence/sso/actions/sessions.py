"""SSO sessions: created on first use of a service, ended by logout or by disabling the
account, with every service told (back-channel / single logout, by a background task)."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken
from oauth2_provider.settings import oauth2_settings

from convergence.accounts.http import signed_in_user
from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.mfa.policy import session_used_mfa
from convergence.sso import events
from convergence.sso.models import (
    Acr,
    CasService,
    CasTicket,
    IssuedCode,
    LogoutState,
    OidcClient,
    Participation,
    Protocol,
    SsoEndReason,
    SsoSession,
)
from convergence.sso.tasks import deliver_logouts

logger = logging.getLogger(__name__)

SESSION_KEY = "convergence_sso_sid"
# Set at sign-in by accounts (the time the password was checked), read for auth_time/max_age.
AUTH_TIME_KEY = "convergence_auth_time"


def session_auth_time(session: SessionBase) -> datetime.datetime | None:
    value = session.get(AUTH_TIME_KEY)
    if not isinstance(value, int | float):
        return None
    return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)


def current_sso_session(request: HttpRequest) -> SsoSession | None:
    sid = request.session.get(SESSION_KEY)
    if not sid or not request.user.is_authenticated:
        return None
    return SsoSession.objects.active().filter(pk=sid, user=request.user).first()


def session_acr(request: HttpRequest) -> Acr:
    """The authentication context this portal session reached: MFA once a second factor was
    used (at sign-in or by a step-up), password otherwise."""
    return Acr.MFA if session_used_mfa(request) else Acr.PASSWORD


def sso_session_for(request: HttpRequest) -> SsoSession:
    """The SSO session of this portal session, created at its first use for a service; its
    ``acr`` is raised to MFA once the portal session used a second factor (never lowered)."""
    acr = session_acr(request)
    existing = current_sso_session(request)
    if existing is not None:
        if acr == Acr.MFA and existing.acr != Acr.MFA:
            existing.acr = Acr.MFA
            existing.save(update_fields=["acr"])
        return existing
    user = signed_in_user(request)
    sso_session = SsoSession.objects.create(
        user=user,
        auth_time=session_auth_time(request.session) or timezone.now(),
        acr=acr,
        issuer=oauth2_settings.oidc_issuer(request),
    )
    request.session[SESSION_KEY] = str(sso_session.pk)
    return sso_session


def reauthenticated(sid: str, user: User, *, auth_time: float) -> bool:
    """The person proved their password again in the same SSO session: move its auth_time.
    False when there is no such active session of theirs."""
    moment = datetime.datetime.fromtimestamp(auth_time, tz=datetime.UTC)
    return bool(SsoSession.objects.active().filter(pk=sid, user=user).update(auth_time=moment))


def record_participation(
    sso_session: SsoSession,
    *,
    oidc_client: OidcClient | None = None,
    cas_service: CasService | None = None,
    cas_ticket: str = "",
    cas_service_url: str = "",
) -> Participation:
    """Remember that the session logged into a service (once per OIDC client)."""
    if oidc_client is not None:
        # One statement whether or not the session logged into the client before (the
        # unique constraint keeps one row): INSERT … ON CONFLICT DO NOTHING.
        participation = Participation(
            sso_session=sso_session, oidc_client=oidc_client, protocol=Protocol.OIDC
        )
        Participation.objects.bulk_create([participation], ignore_conflicts=True)
        return participation
    if cas_service is None:
        raise ValueError("A participation names an OIDC client or a CAS service.")
    return Participation.objects.create(
        sso_session=sso_session,
        protocol=Protocol.CAS,
        cas_service=cas_service,
        cas_ticket=cas_ticket,
        cas_service_url=cas_service_url,
    )


def _revoke_session_credentials(sso_sessions: list[SsoSession]) -> None:
    families = (
        IssuedCode.objects.filter(sso_session__in=sso_sessions)
        .exclude(token_family=None)
        .values_list("token_family", flat=True)
    )
    for family in list(families):
        RefreshToken.revoke_family(family)
    checksums = (
        IssuedCode.objects.filter(sso_session__in=sso_sessions)
        .exclude(access_token_checksum="")
        .values_list("access_token_checksum", flat=True)
    )
    AccessToken.objects.filter(token_checksum__in=list(checksums)).delete()
    CasTicket.objects.filter(sso_session__in=sso_sessions, consumed_at__isnull=True).update(
        consumed_at=timezone.now()
    )


def _end(sso_sessions: list[SsoSession], reason: str, request: HttpRequest | None) -> None:
    if not sso_sessions:
        return
    now = timezone.now()
    SsoSession.objects.filter(pk__in=[s.pk for s in sso_sessions]).update(
        ended_at=now, ended_reason=reason
    )
    _revoke_session_credentials(sso_sessions)
    participations = Participation.objects.filter(sso_session__in=sso_sessions).select_related(
        "cas_service", "oidc_client"
    )
    ids = [
        p.pk
        for p in participations
        if (p.cas_service is not None and p.cas_service.single_logout)
        or (p.oidc_client is not None and p.oidc_client.backchannel_logout_uri)
    ]
    Participation.objects.filter(pk__in=ids).update(logout_state=LogoutState.PENDING)
    for sso_session in sso_sessions:
        record_event(
            event_type=events.SSO_ENDED,
            request=request,
            actor=request.user if request is not None and request.user.is_authenticated else None,
            subject=sso_session.user,
            data={"sid": str(sso_session.pk), "reason": reason, "services": len(ids)},
        )
    if ids:
        transaction.on_commit(lambda: _enqueue(deliver_logouts, ids))


def _enqueue(task: object, ids: list[int]) -> None:
    # Never let a queue problem turn a logout into an error: the portal session is gone
    # already; the services' own sessions expire on their own.
    try:
        task.enqueue(participation_ids=ids)  # type: ignore[attr-defined]
    except Exception:
        logger.exception("Could not enqueue single-logout delivery for %d services.", len(ids))


def end_sso_session(request: HttpRequest, *, reason: str = SsoEndReason.LOGOUT) -> None:
    """End the SSO session of this portal session (called as the person signs out)."""
    sid = request.session.get(SESSION_KEY)
    if not sid:
        return
    with transaction.atomic():
        sso_sessions = list(
            SsoSession.objects.active().select_related("user").select_for_update().filter(pk=sid)
        )
        _end(sso_sessions, reason, request)


def end_sso_sessions(
    sso_sessions: list[SsoSession], *, reason: str, request: HttpRequest | None = None
) -> None:
    """End the given SSO sessions (an administrator's decision, audited per session)."""
    with transaction.atomic():
        locked = list(
            SsoSession.objects.active()
            .select_related("user")
            .select_for_update()
            .filter(pk__in=[s.pk for s in sso_sessions])
        )
        _end(locked, reason, request)


def end_user_sso(
    user: User, *, reason: str = SsoEndReason.ACCOUNT_DISABLED, request: HttpRequest | None = None
) -> None:
    """End every SSO session of a person and revoke every token and ticket they hold."""
    with transaction.atomic():
        sso_sessions = list(
            SsoSession.objects.active().select_related("user").select_for_update().filter(user=user)
        )
        _end(sso_sessions, reason, request)
        families = RefreshToken.objects.filter(user=user).exclude(token_family=None)
        for family in set(families.values_list("token_family", flat=True)):
            RefreshToken.revoke_family(family)
        AccessToken.objects.filter(user=user).delete()
        CasTicket.objects.filter(user=user, consumed_at__isnull=True).update(
            consumed_at=timezone.now()
        )


# How long what single sign-on no longer needs stays, for the support to see (the notice on
# personal data, sso/personal_data.py, reads them).
EXPIRED_TICKETS_KEPT = datetime.timedelta(days=1)
ENDED_SESSIONS_KEPT = datetime.timedelta(days=30)


def purge_expired(now: datetime.datetime | None = None) -> dict[str, int]:
    """Delete what no longer serves: used or expired tickets and codes, SSO sessions ended a
    month ago; close SSO sessions whose portal session has expired. Returns counts."""
    moment = now or timezone.now()
    day = datetime.timedelta(days=1)
    counts = {
        "tickets": CasTicket.objects.filter(expires__lt=moment - EXPIRED_TICKETS_KEPT).delete()[0],
        "codes": IssuedCode.objects.filter(created__lt=moment - EXPIRED_TICKETS_KEPT).delete()[0],
    }
    portal_session_age = datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    counts["expired_sessions"] = (
        SsoSession.objects.active()
        .filter(created__lt=moment - portal_session_age - day)
        .update(ended_at=moment, ended_reason=SsoEndReason.EXPIRED)
    )
    counts["old_sessions"] = SsoSession.objects.filter(
        ended_at__lt=moment - ENDED_SESSIONS_KEPT
    ).delete()[0]
    return counts
