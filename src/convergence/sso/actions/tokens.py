"""Writes of the token endpoint's own grants (``sso/grants.py``): refresh-token rotation,
reuse revoking a whole family, and client-credentials tokens.

Tokens are stored as the toolkit stores them (its models, hashed at rest with
``COMPLIANT_BCP_RFC9700_TOKEN_STORAGE``), so every other part of the toolkit — introspection,
revocation, userinfo, ``sso_purge`` — reads them unchanged.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, OperationalError, router, transaction
from django.http import HttpRequest
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken, set_token_value

from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.core import ratelimit
from convergence.sso import events


@dataclass(frozen=True)
class IssuedPair:
    """What a rotation stored: the new access token row and the new refresh token row."""

    access_token: AccessToken
    refresh_token: RefreshToken


def _access_token(
    *,
    value: str,
    application: Application,
    user: User | None,
    scope: str,
    expires: datetime.datetime,
    source_refresh_token: RefreshToken | None = None,
    resource: list[str] | None = None,
) -> AccessToken:
    token = AccessToken(
        user=user,
        application=application,
        scope=scope,
        expires=expires,
        source_refresh_token=source_refresh_token,
        resource=resource or [],
    )
    set_token_value(token, value)
    token.save(force_insert=True)
    return token


def rotate_refresh_token(
    *,
    presented: RefreshToken,
    application: Application,
    scope: str,
    access_token: str,
    refresh_token: str,
    expires: datetime.datetime,
) -> IssuedPair | None:
    """Replace ``presented`` by a new access and refresh token of the same family.

    One transaction: the presented token is revoked (only if it still is live: one
    conditional UPDATE decides between two concurrent uses), its access token deleted, the
    new pair inserted. Returns ``None``, having written nothing, when another request used
    the token first — the caller then treats it as a reuse."""
    now = timezone.now()
    with transaction.atomic():
        won = RefreshToken.objects.filter(pk=presented.pk, revoked__isnull=True).update(
            revoked=now, updated=now, access_token=None
        )
        if not won:
            return None
        if presented.access_token_id is not None:
            # Deleted as the toolkit's revoke() does; the one row pointing to it is the
            # presented token, unlinked just above, so no collector is needed.
            AccessToken.objects.filter(pk=presented.access_token_id)._raw_delete(
                router.db_for_write(AccessToken)
            )
        new_access = _access_token(
            value=access_token,
            application=application,
            user=presented.user,
            scope=scope,
            expires=expires,
            source_refresh_token=presented,
            resource=list(presented.resource or []),
        )
        new_refresh = RefreshToken(
            user=presented.user,
            application=application,
            access_token=new_access,
            token_family=presented.token_family,
            resource=list(presented.resource or []),
        )
        set_token_value(new_refresh, refresh_token)
        new_refresh.save(force_insert=True)
    return IssuedPair(access_token=new_access, refresh_token=new_refresh)


# A family's reuse is audited this many times an hour at most: whoever holds a dead token
# cannot fill the audit trail at the rate of their requests.
REUSE_AUDITS_PER_FAMILY = 10
REUSE_AUDIT_WINDOW_SECONDS = 3600


def revoke_reused_refresh_token(
    presented: RefreshToken, *, client_id: str, request: HttpRequest | None = None
) -> None:
    """A refresh token was presented again after it rotated (or was revoked): revoke its
    whole family — every refresh token and the access tokens they carry — and audit it.

    A family already revoked entirely (a reuse caught before, a sign-out) is not written
    again; the audit rows of one family are bounded by the shared limiter (written anyway
    when the limiter is unreachable: the trace matters more than its volume).
    """
    family = presented.token_family
    with transaction.atomic():
        if (
            family is not None
            and RefreshToken.objects.filter(token_family=family, revoked__isnull=True).exists()
        ):
            RefreshToken.revoke_family(family)
        try:
            over = ratelimit.hit(
                ratelimit.key("sso-refresh-reused", family or presented.pk),
                limit=REUSE_AUDITS_PER_FAMILY,
                window=REUSE_AUDIT_WINDOW_SECONDS,
            )
        except ratelimit.LimiterUnavailable:
            over = 0
        if not over:
            record_event(
                event_type=events.REFRESH_TOKEN_REUSED,
                request=request,
                subject=presented.user,
                data={"client_id": client_id},
            )


def issue_client_token(
    *, application: Application, scope: str, access_token: str, expires: datetime.datetime
) -> AccessToken:
    """Store a client-credentials access token (a server of the académie, no person): one
    INSERT."""
    return _access_token(
        value=access_token, application=application, user=None, scope=scope, expires=expires
    )


def _first_party_client(client_id: str, name: str) -> Application:
    """The portal's own part (the webmail) as a client: no redirect, no usable secret, no tile.
    Created at its first use; its tokens are only ever minted by the portal itself."""
    found = Application.objects.filter(client_id=client_id).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            created: Application = Application.objects.create(
                client_id=client_id,
                name=name,
                client_type=Application.CLIENT_CONFIDENTIAL,
                authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
                client_secret=secrets.token_urlsafe(48),
                skip_authorization=True,
            )
    except (IntegrityError, OperationalError):
        # A page and its deferred widget, at the very first use: the other request made it.
        return Application.objects.get(client_id=client_id)
    return created


def issue_first_party_token(
    *, user: User, client_id: str, name: str, scope: str, seconds: int
) -> tuple[str, datetime.datetime]:
    """A short-lived bearer token of ``user`` for one of the portal's own parts: the webmail
    logs in to the académie's IMAP server with it (XOAUTH2 / OAUTHBEARER), and the server
    introspects it. Stored hashed like every token; revoked with the person's other tokens
    (``end_user_sso``) or by :func:`revoke_first_party_tokens`. Returns the value and its end."""
    application = _first_party_client(client_id, name)
    value = secrets.token_urlsafe(32)
    expires = timezone.now() + datetime.timedelta(seconds=seconds)
    _access_token(value=value, application=application, user=user, scope=scope, expires=expires)
    return value, expires


def revoke_first_party_tokens(*, user: User, client_id: str) -> int:
    """End every token of ``user`` for the portal's part ``client_id`` (at sign-out)."""
    deleted = AccessToken.objects.filter(user=user, application__client_id=client_id).delete()
    return int(deleted[0])
