"""Writes of the OpenID Connect provider beyond the toolkit's own: what each code issued,
reuse revocation, codes burned by a failed PKCE check, consents."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken

from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.portal.models import Service
from convergence.sso import events
from convergence.sso.actions.sessions import record_participation
from convergence.sso.models import Consent, IssuedCode, OidcClient, SsoSession, digest


def record_issued_code(
    *, code: str, application: Application, user: User, sso_session: SsoSession | None
) -> IssuedCode:
    if sso_session is None:
        raise ValueError("An authorization code is always issued within an SSO session.")
    return IssuedCode.objects.create(
        code_digest=digest(code),
        application=application,
        user=user,
        sso_session=sso_session,
        auth_time=sso_session.auth_time,
        acr=sso_session.acr,
    )


def record_code_tokens(
    issued: IssuedCode, *, access_token: str, token_family: uuid.UUID | None = None
) -> None:
    """Mark the code redeemed with what it issued (one write), and remember that the session
    logged into the client. ``token_family`` is the refresh family the code started, when
    the caller knows it (otherwise it is read back)."""
    # The toolkit looks tokens up by the same SHA-256 digest (TokenChecksumField).
    checksum = digest(access_token)
    family = token_family or (
        RefreshToken.objects.filter(access_token__token_checksum=checksum)
        .values_list("token_family", flat=True)
        .first()
    )
    issued.redeemed_at = timezone.now()
    issued.access_token_checksum = checksum
    issued.token_family = family
    issued.save(update_fields=["redeemed_at", "access_token_checksum", "token_family"])
    client = OidcClient.objects.filter(application_id=issued.application_id).first()
    if client is not None and issued.sso_session is not None:
        record_participation(issued.sso_session, oidc_client=client)


def revoke_issued(issued: IssuedCode) -> None:
    """Revoke the access token and the whole refresh family a code led to."""
    if issued.token_family:
        RefreshToken.revoke_family(issued.token_family)
    if issued.access_token_checksum:
        AccessToken.objects.filter(token_checksum=issued.access_token_checksum).delete()


def revoke_reused_code(issued: IssuedCode) -> None:
    with transaction.atomic():
        revoke_issued(issued)
        record_event(
            event_type=events.CODE_REUSED,
            subject=issued.user,
            data={"client_id": issued.application.client_id},
        )


def burn_code(issued: IssuedCode | None, *, code: str, application: Application) -> None:
    """Destroy a code whose redemption failed the PKCE check, and audit it.

    One transaction: the toolkit's grant is deleted and the code is marked redeemed (with
    nothing issued), so any later attempt, even with the right verifier, is answered
    ``invalid_grant`` and audited as a reused code."""
    with transaction.atomic():
        Grant.objects.filter(code=code, application=application).delete()
        if issued is None:
            return
        issued.redeemed_at = timezone.now()
        issued.save(update_fields=["redeemed_at"])
        record_event(
            event_type=events.CODE_VERIFIER_REJECTED,
            subject=issued.user,
            data={"client_id": application.client_id},
        )


def record_service_login(request: HttpRequest, *, client_id: str, protocol: str) -> None:
    """Audit that the person was let into a service (their "Activité récente" reads it)."""
    service_slug = (
        OidcClient.objects.filter(application__client_id=client_id)
        .values_list("service__slug", flat=True)
        .first()
    )
    record_event(
        event_type=events.SERVICE_LOGIN,
        request=request,
        actor=request.user,
        subject=request.user,
        data={"service": service_slug or "", "protocol": protocol},
    )


def grant_consent(
    *, user: User, service: Service, scopes: set[str], request: HttpRequest | None = None
) -> Consent:
    with transaction.atomic():
        consent, created = Consent.objects.get_or_create(
            user=user, service=service, defaults={"scopes": " ".join(sorted(scopes))}
        )
        if not created and not consent.covers(scopes):
            consent.scopes = " ".join(sorted(scopes | set(consent.scopes.split())))
            consent.granted_at = timezone.now()
            consent.save(update_fields=["scopes", "granted_at"])
        record_event(
            event_type=events.CONSENT_GRANTED,
            request=request,
            actor=user,
            subject=user,
            data={"service": service.slug, "scopes": sorted(scopes)},
        )
    return consent


def revoke_consent(*, user: User, service: Service, request: HttpRequest | None = None) -> None:
    """Withdraw a consent: the service's tokens for this person are revoked at once."""
    with transaction.atomic():
        Consent.objects.filter(user=user, service=service).delete()
        client = OidcClient.objects.filter(service=service).first()
        if client is not None:
            families = (
                RefreshToken.objects.filter(user=user, application_id=client.application_id)
                .exclude(token_family=None)
                .values_list("token_family", flat=True)
                .distinct()
            )
            for family in list(families):
                RefreshToken.revoke_family(family)
            AccessToken.objects.filter(user=user, application_id=client.application_id).delete()
        record_event(
            event_type=events.CONSENT_REVOKED,
            request=request,
            actor=user,
            subject=user,
            data={"service": service.slug},
        )
