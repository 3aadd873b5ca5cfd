"""Helpers shared by the tests of every app: the text of a page, the current TOTP code of a
person and signing in through it.

Privileged demo people (direction, administratif, référent, DSI) have "codes changeants"
enrolled by the demo blueprint; a test that signs them in through the login form passes the
second-factor stage with :func:`sign_in_with_totp`. The code is computed with allauth's own
TOTP functions, from the secret allauth stores (encrypted) for the person.
"""

from __future__ import annotations

import html
import time
from typing import Any

from allauth.mfa import app_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from convergence.mfa.seams import decrypt_text


def totp_secret(user: Any) -> str:
    authenticator = Authenticator.objects.get(user_id=user.pk, type=Authenticator.Type.TOTP)
    return decrypt_text(authenticator.data["secret"])


def code_for_secret(secret: str, *, at: float | None = None) -> str:
    counter = int(time.time() if at is None else at) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


def totp_code(user: Any) -> str:
    """The code the person's application shows now."""
    return code_for_secret(totp_secret(user))


def forget_used_codes(user: Any) -> None:
    """allauth refuses a code already used (replay, kept in the cache for the tolerance
    window): a test that signs the same person in twice within 30 seconds starts afresh.

    Only the replay markers of the codes around now are deleted: clearing the whole cache
    would also drop the sessions when they live in Redis (the PostgreSQL + Redis pass).
    """
    secret = totp_secret(user)
    now = time.time()
    for step in range(-2, 3):
        forget_used_code(user, code_for_secret(secret, at=now + step * app_settings.TOTP_PERIOD))


def forget_used_code(user: Any, code: str) -> None:
    """Forget that ``user`` used ``code`` (allauth's replay marker) and nothing else: the
    sign-in throttling counters in the same cache stay."""
    authenticator = Authenticator.objects.get(user_id=user.pk, type=Authenticator.Type.TOTP)
    cache.delete(TOTP(authenticator)._get_used_cache_key(code))


def has_totp(user: Any) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def pass_second_factor(client: Client, user: Any) -> Any:
    """After a right password, answer the second-factor stage if the person has one."""
    if not has_totp(user):
        return None
    code = totp_code(user)
    forget_used_code(user, code)
    return client.post(reverse("mfa_authenticate"), {"code": code})


def sign_in_with_totp(client: Client, user: Any, **extra: Any) -> Any:
    """Sign in through the login form (password, then the code if enrolled); the last response."""
    response = client.post(
        reverse("account_login"), {"login": user.login, "password": user.demo_password, **extra}
    )
    second = pass_second_factor(client, user)
    return second if second is not None else response


def text_of(response: Any) -> str:
    """A page's HTML with its entities decoded, to look for French text in it."""
    return html.unescape(response.content.decode())


def post_sign_in(client: Client, login: str, password: str, **extra: Any) -> Any:
    """The sign-in form posted as a browser would (``extra``: headers such as REMOTE_ADDR)."""
    return client.post("/connexion/", {"login": login, "password": password}, **extra)


def client_of(person: Any) -> Client:
    """A browser already signed in as ``person`` (no form, no second factor)."""
    client = Client()
    client.force_login(person)
    return client
