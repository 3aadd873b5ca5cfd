"""Telling services that a person signed out: OIDC back-channel logout tokens and CAS
single-logout requests. The only module of sso that calls services over HTTP (explicit
timeouts, no redirects followed)."""

from __future__ import annotations

import datetime
import secrets
import time
import uuid

import requests
from django.conf import settings
from jwcrypto import jwk, jwt

from convergence.sso.models import Participation, Protocol

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_SECONDS = 120


class DeliveryError(Exception):
    pass


def signing_key() -> jwk.JWK:
    return jwk.JWK.from_pem(settings.OIDC_ACTIVE_KEY.encode())


def logout_token(participation: Participation) -> str:
    """A logout token (OpenID Connect Back-Channel Logout 1.0, section 2.4)."""
    assert participation.oidc_client is not None
    sso_session = participation.sso_session
    now = int(time.time())
    key = signing_key()
    token = jwt.JWT(
        header={"alg": "RS256", "typ": "logout+jwt", "kid": key.thumbprint()},
        claims={
            "iss": sso_session.issuer,
            "aud": participation.oidc_client.application.client_id,
            "iat": now,
            "exp": now + LOGOUT_TOKEN_SECONDS,
            "jti": str(uuid.uuid4()),
            "sub": str(sso_session.user_id),
            "sid": str(sso_session.pk),
            "events": {BACKCHANNEL_EVENT: {}},
        },
    )
    token.make_signed_token(key)
    return str(token.serialize())


def cas_logout_request(ticket: str) -> str:
    """The SAML LogoutRequest CAS 3.0 posts to a service (specification, section 2.3.3)."""
    issued = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        f'ID="LR-{secrets.token_hex(16)}" Version="2.0" IssueInstant="{issued}">'
        '<saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">@NOT_USED@</saml:NameID>'
        f"<samlp:SessionIndex>{ticket}</samlp:SessionIndex>"
        "</samlp:LogoutRequest>"
    )


def deliver(participation: Participation) -> None:
    """Send one logout; raises :class:`DeliveryError` when the service did not take it."""
    timeout = settings.SSO_LOGOUT_TIMEOUT_SECONDS
    if participation.protocol == Protocol.OIDC:
        assert participation.oidc_client is not None
        url = participation.oidc_client.backchannel_logout_uri
        data = {"logout_token": logout_token(participation)}
    else:
        url = participation.cas_service_url
        data = {"logoutRequest": cas_logout_request(participation.cas_ticket)}
    try:
        response = requests.post(
            url,
            data=data,
            timeout=timeout,
            allow_redirects=False,
            headers={"Cache-Control": "no-store"},
        )
    except requests.RequestException as error:
        raise DeliveryError(type(error).__name__) from error
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"HTTP {response.status_code}")
