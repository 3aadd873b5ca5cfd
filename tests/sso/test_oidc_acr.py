"""Asking for a second factor (``acr_values``) before the MFA issue: the answer tells the
truth — password only — and the client decides. Every service login is audited."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from jwcrypto import jwk, jwt

from convergence.audit.models import AuditEvent
from convergence.sso import events
from convergence.sso.models import Acr

from .test_single_logout import SECRET, register_client


@pytest.mark.django_db
def test_mfa_asked_password_answered_and_login_audited(teacher: Any) -> None:
    register_client("https://appli.exemple.fr/bcl")
    browser = Client()
    browser.post("/connexion/", {"login": teacher.login, "password": teacher.demo_password})
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    response = browser.get(
        "/oidc/authorize/",
        {
            "response_type": "code",
            "client_id": "appli-test",
            "redirect_uri": "https://appli.exemple.fr/callback",
            "scope": "openid",
            "acr_values": Acr.MFA,
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        },
    )
    code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
    tokens = Client().post(
        "/oidc/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://appli.exemple.fr/callback",
            "client_id": "appli-test",
            "client_secret": SECRET,
            "code_verifier": verifier,
        },
    )
    key = jwk.JWK.from_pem(settings.OIDC_ACTIVE_KEY.encode())
    claims = json.loads(jwt.JWT(jwt=json.loads(tokens.content)["id_token"], key=key).claims)
    assert claims["acr"] == Acr.PASSWORD
    (event,) = AuditEvent.objects.of_type(events.SERVICE_LOGIN)
    assert event.subject_id == teacher.pk
    assert event.data == {"service": "appli-test", "protocol": "oidc"}
