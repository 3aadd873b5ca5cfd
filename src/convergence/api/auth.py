"""Who calls the API: a catalogue service holding a live access token it got by OAuth 2.0
client credentials (RFC 6749 §4.4), presented as ``Authorization: Bearer <token>`` (RFC 6750).

A token issued to a person (authorization code, refresh) is refused, as is a token of a
server of the académie, of a client that is no longer an API client or no longer
confidential: its scopes are those the token carries *and* the client still holds, so access
withdrawn in the administration applies at once. Each authenticated call counts against the
client's request limit; each refused one (401) against its address's, and an address past
that limit gets a 429 before its token is read.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer
from oauth2_provider.models import AccessToken, Application

from convergence.api import errors, limits
from convergence.api.scopes import SCOPES
from convergence.core.http import client_ip
from convergence.portal.models import Service
from convergence.sso.models import OidcClient
from convergence.sso.tokens import checksum

# Longer than any token the portal issues: not worth a hash and a query.
MAX_TOKEN_LENGTH = 512


@dataclass(frozen=True)
class Caller:
    """The service making an API call, as its token and its client say."""

    oidc_client: OidcClient
    client_id: str
    service: Service
    scopes: frozenset[str]


def caller_of(token_value: str) -> Caller | None:
    """The service holding ``token_value``, or ``None`` (unknown, expired, a person's token,
    not an API client's). One query."""
    if not token_value or len(token_value) > MAX_TOKEN_LENGTH:
        return None
    token = (
        AccessToken.objects.select_related(
            "application__convergence_client__service",
            "application__convergence_client__api_client",
        )
        .filter(token_checksum=checksum(token_value))
        .first()
    )
    if token is None or token.user_id is not None or token.expires <= timezone.now():
        return None
    application = token.application
    if application is None or application.client_type != Application.CLIENT_CONFIDENTIAL:
        # Client credentials are a confidential client's (RFC 6749 §4.4): a client made
        # public since the token was issued no longer holds a secret to prove itself.
        return None
    oidc_client = getattr(application, "convergence_client", None)
    if oidc_client is None or oidc_client.service is None:
        return None
    api_client = getattr(oidc_client, "api_client", None)
    if api_client is None:
        return None
    scopes = frozenset(token.scope.split()) & frozenset(api_client.scopes.split()) & SCOPES
    if not scopes:
        return None
    return Caller(
        oidc_client=oidc_client,
        client_id=str(application.client_id),
        service=oidc_client.service,
        scopes=scopes,
    )


class ServiceBearer(HttpBearer):
    """ninja's bearer scheme, answered by :func:`caller_of` and the client's request limit."""

    openapi_description = (
        "Jeton d'accès OAuth 2.0 obtenu par identifiants client (RFC 6749 §4.4) sur "
        "/oidc/token/, avec les portées notifications:<catégorie> accordées au service."
    )

    def __call__(self, request: HttpRequest) -> Caller | None:
        address = client_ip(request)
        limits.refuse_if_guessing(address)
        caller: Caller | None = super().__call__(request)
        if caller is None:  # no bearer token: ninja answers the 401, counted here
            limits.count_bad_token(address)
        return caller

    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        caller = caller_of(token.strip())
        if caller is None:
            limits.count_bad_token(client_ip(request))
            raise errors.unauthorized(presented=True)
        limits.count_request(caller.client_id)
        return caller
