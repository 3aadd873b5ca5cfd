"""The token endpoint's two server-to-server grants, answered without oauthlib's machinery:
``refresh_token`` and ``client_credentials`` (RFC 6749 §6 and §4.4).

They are most of the endpoint's traffic and the toolkit spends 19 SQL statements on a
refresh (the client read twice, the token read, locked and read again, the old pair revoked
in three writes…). Here a refresh is one read and four writes in one transaction, a
client-credentials grant one insert; the client comes from ``clients`` (a few seconds per
process). The rules are the toolkit's and oauthlib's, in their order, with the portal's
own (``validators.py``) on top:

- client authentication as the toolkit does it: ``client_secret_basic``, then
  ``client_secret_post``; a public client names itself with ``client_id`` alone (refresh
  only); a failure is ``invalid_client`` (401);
- the client's grant type must allow the grant (``unauthorized_client``);
- refresh: the token must exist, be live and be the client's; a revoked one (rotation
  revokes at every use) revokes its whole family and is audited; the family lives at most
  ``OIDC_REFRESH_ABSOLUTE_SECONDS``; an account that is no longer active gets nothing;
  a narrower ``scope`` may be asked, never a wider one; no ID token (a refresh is not a
  sign-in);
- client credentials: servers' scopes only (``introspection``), no refresh token; or, for a
  catalogue service's client, the service scopes an app above registered for it
  (:func:`register_service_scopes`: the API's ``notifications:<category>``), whatever the
  client's own grant type — and nothing else; a public client gets none of them.

Anything unusual — a query string, an ``Origin`` header (CORS), RFC 8707 ``resource``,
repeated parameters, a custom token generator — goes to the toolkit, as does every other
grant: this module answers only the plain case, the toolkit stays the reference.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from django.conf import settings
from django.contrib.auth.hashers import check_password, identify_hasher
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from oauth2_provider.models import Application, refresh_token_expire_timedelta
from oauth2_provider.oauth2_validators import GRANT_TYPE_MAPPING
from oauth2_provider.scopes import get_scopes_backend
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.signals import app_authorized
from oauthlib.common import generate_token
from oauthlib.oauth2.rfc6749 import errors

from convergence.sso import clients, tokens
from convergence.sso.actions import tokens as token_actions
from convergence.sso.validators import SERVER_SCOPES

GRANTS = frozenset({"refresh_token", "client_credentials"})
# oauthlib's headers of every token response (RFC 6749 §5.1).
HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}

# Who says which scopes a catalogue service's client may get by client credentials: apps
# above sso register a function of the client (their AppConfig.ready()); sso imports none.
_service_scope_sources: list[Callable[[Application], frozenset[str]]] = []


def register_service_scopes(source: Callable[[Application], frozenset[str]]) -> None:
    """Add ``source``: the scopes a client may get by client credentials beyond servers'."""
    if source not in _service_scope_sources:
        _service_scope_sources.append(source)


def service_scopes(application: Application) -> frozenset[str]:
    """The scopes every registered source grants ``application`` (empty: none)."""
    granted: frozenset[str] = frozenset()
    for source in _service_scope_sources:
        granted |= source(application)
    return granted


def handles(request: HttpRequest) -> bool:
    """Whether this module answers the token request (otherwise the toolkit does)."""
    params = request.POST
    if params.get("grant_type") not in GRANTS:
        return False
    if request.META.get("QUERY_STRING") or "HTTP_ORIGIN" in request.META or "resource" in params:
        return False
    if (
        oauth2_settings.ACCESS_TOKEN_GENERATOR
        or oauth2_settings.REFRESH_TOKEN_GENERATOR
        or oauth2_settings.CIMD_ENABLED
        # This path rotates at every use, treats any reuse as a theft and knows no grace
        # period: configured otherwise, the toolkit applies what is configured.
        or not oauth2_settings.ROTATE_REFRESH_TOKEN
        or not oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION
        or oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS
    ):
        return False
    return all(len(values) == 1 for _name, values in params.lists())


def token_response(request: HttpRequest, *, sender: object) -> HttpResponse:
    """Answer a refresh-token or client-credentials grant (``handles`` said yes)."""
    try:
        if request.POST["grant_type"] == "refresh_token":
            body, access_token = _refresh(request)
        else:
            body, access_token = _client_credentials(request)
    except errors.OAuth2Error as error:
        response = HttpResponse(error.json, status=error.status_code)
        for name, value in {**HEADERS, **error.headers}.items():
            response[name] = value
        return response
    # As the toolkit's TokenView does after every token it issues.
    app_authorized.send(sender=sender, request=request, token=access_token)
    response = HttpResponse(json.dumps(body))
    for name, value in HEADERS.items():
        response[name] = value
    return response


# --- client authentication ----------------------------------------------------------------


def _check_secret(provided: str, stored: str) -> bool:
    """The toolkit's comparison: hashed secrets (``sso/hashers.py``) or, unhashed, exact."""
    try:
        identify_hasher(stored)
    except ValueError:
        return constant_time_compare(provided, stored)
    return check_password(provided, stored)


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    """``client_id`` and secret from HTTP Basic (form-encoded, RFC 6749 §2.3.1), or None."""
    scheme, _, encoded = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme != "Basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded).decode(settings.DEFAULT_CHARSET or "utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


def _authenticated_client(request: HttpRequest, *, public_allowed: bool) -> Application:
    """The client making the request, or ``invalid_client``."""
    has_basic = request.META.get("HTTP_AUTHORIZATION", "").startswith("Basic ")
    body_id = request.POST.get("client_id", "")
    body_secret = request.POST.get("client_secret", "")
    if has_basic or (body_id and body_secret):
        candidates = [_basic_credentials(request), (body_id, body_secret)]
        for client_id, secret in filter(None, candidates):
            if not client_id:
                continue
            application = clients.application(client_id)
            if application is not None and _check_secret(secret, application.client_secret):
                return application
        raise errors.InvalidClientError()
    application = clients.application(body_id)
    if (
        public_allowed
        and application is not None
        and application.client_type != Application.CLIENT_CONFIDENTIAL
    ):
        return application
    raise errors.InvalidClientError()


def _allow_grant(application: Application, grant_type: str) -> None:
    if not application.allows_grant_type(*GRANT_TYPE_MAPPING[grant_type]):
        raise errors.UnauthorizedClientError()


def _expires() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)


# --- refresh_token ------------------------------------------------------------------------


def _refresh(request: HttpRequest) -> tuple[dict[str, Any], Any]:
    presented_value = request.POST.get("refresh_token")
    if presented_value is None:
        raise errors.InvalidRequestError(description="Missing refresh token parameter.")
    application = _authenticated_client(request, public_allowed=True)
    _allow_grant(application, "refresh_token")
    presented = tokens.presented_refresh_token(presented_value)
    if presented is None:
        raise errors.InvalidGrantError()
    if presented.revoked is not None:
        # Rotation revoked it: whoever presents it now replays it (RFC 9700 §4.14.2).
        token_actions.revoke_reused_refresh_token(
            presented, client_id=application.client_id, request=request
        )
        raise errors.InvalidGrantError()
    now = timezone.now()
    current = presented.access_token
    if current is None or presented.application_id != application.pk:
        raise errors.InvalidGrantError()
    lifetime = refresh_token_expire_timedelta()  # the toolkit's reading: 0 means none
    if lifetime is not None and current.expires + lifetime <= now:
        raise errors.InvalidGrantError()
    if tokens.family_expired(presented.token_family, now=now) or not presented.user.is_active:
        raise errors.InvalidGrantError()
    original = current.scope.split()
    asked = request.POST.get("scope", "").split()
    if asked and not all(scope in original for scope in asked):
        raise errors.InvalidScopeError()
    scopes = asked or original
    access_value, refresh_value = generate_token(), generate_token()
    issued = token_actions.rotate_refresh_token(
        presented=presented,
        application=application,
        scope=" ".join(scopes),
        access_token=access_value,
        refresh_token=refresh_value,
        expires=_expires(),
    )
    if issued is None:
        # Another request rotated it between the read and the write: a replay too.
        token_actions.revoke_reused_refresh_token(
            presented, client_id=application.client_id, request=request
        )
        raise errors.InvalidGrantError()
    body = {
        "access_token": access_value,
        "expires_in": oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS,
        "token_type": "Bearer",
        "scope": " ".join(scopes),
        "refresh_token": refresh_value,
    }
    return body, issued.access_token


# --- client_credentials -------------------------------------------------------------------


def _client_credentials(request: HttpRequest) -> tuple[dict[str, Any], Any]:
    application = _authenticated_client(request, public_allowed=False)
    asked = request.POST.get("scope", "").split()
    # A server's client is a server's, whatever it asks (and costs no query more).
    server = application.allows_grant_type(Application.GRANT_CLIENT_CREDENTIALS)
    granted = frozenset() if server else service_scopes(application)
    if granted and not SERVER_SCOPES.intersection(asked):
        # A catalogue service's client: the scopes granted to it, never a server's. Only a
        # confidential one (RFC 6749 §4.4): a public client's stored secret, left from when
        # it was confidential, proves nothing; the toolkit answers it ``unauthorized_client``.
        if application.client_type != Application.CLIENT_CONFIDENTIAL:
            raise errors.UnauthorizedClientError()
        scopes = asked or sorted(granted)
        if not set(scopes) <= granted:
            raise errors.InvalidScopeError()
    else:
        _allow_grant(application, "client_credentials")
        backend = get_scopes_backend()
        scopes = asked or list(backend.get_default_scopes(application=application, request=None))
        available = set(backend.get_available_scopes(application=application, request=None))
        if not set(scopes) <= SERVER_SCOPES & available:
            raise errors.InvalidScopeError()
    access_value = generate_token()
    access_token = token_actions.issue_client_token(
        application=application,
        scope=" ".join(scopes),
        access_token=access_value,
        expires=_expires(),
    )
    body = {
        "access_token": access_value,
        "expires_in": oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS,
        "token_type": "Bearer",
        "scope": " ".join(scopes),
    }
    return body, access_token
