"""The one adapter around web push (pywebpush): the portal's VAPID key, the endpoints it
accepts, and sending one small encrypted message to one browser.

* The VAPID key pair is ``settings.WEBPUSH_VAPID_PRIVATE_KEY`` when set, else a row of
  ``VapidKey`` generated on first use (one INSERT that loses nothing in a race: the loser
  reads the winner's key). Browsers subscribed with the public key; changing it orphans
  every subscription.
* :func:`send` posts with an explicit timeout and translates the outcome: delivered,
  :data:`Outcome.GONE` (404 or 410: the browser unsubscribed, the caller forgets it), or
  :class:`PushFailed` for anything else (the push service down, a refusal). There is no
  retry: a push is news of the moment, the notification stays in the centre, and a retry
  loop against a struggling push service would only make it worse.
"""

from __future__ import annotations

import base64
import enum
import functools
import ipaddress
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import IntegrityError, transaction
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

from convergence.notifications.models import PushSubscription, VapidKey

logger = logging.getLogger(__name__)

BODY_LENGTH = 300
# Push services take at most 4 KB of encrypted payload; the JSON stays well under.
PAYLOAD_BYTES = 3000
# A link longer than this (UTF-8, as JSON) is replaced by the centre's address.
URL_BYTES = 1000
ELLIPSIS = "…"
# How long a push service keeps a message for a browser that is offline.
TTL_SECONDS = 24 * 3600
# A VAPID token is valid for this long (at most 24 h, RFC 8292).
TOKEN_SECONDS = 12 * 3600


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    GONE = "gone"


class PushFailed(Exception):
    """The push service could not be reached or refused the message (not 404/410)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """Base64url without padding, as browsers give keys; ``ValueError`` when it is not."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError("not base64url") from error


def _stored_key() -> str:
    row = VapidKey.objects.filter(pk=1).first()
    if row is not None:
        return row.private_key
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    try:
        with transaction.atomic():
            VapidKey.objects.create(pk=1, private_key=pem)
    except IntegrityError:  # another process generated it first: theirs is the key
        return VapidKey.objects.get(pk=1).private_key
    return pem


@functools.lru_cache(maxsize=2)
def _vapid_from(text: str) -> Vapid02:
    if text.lstrip().startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        return Vapid02(key)
    return Vapid02.from_string(text)


def vapid() -> Vapid02:
    """The portal's VAPID key pair."""
    return _vapid_from(settings.WEBPUSH_VAPID_PRIVATE_KEY or _stored_key())


def public_key() -> str:
    """The ``applicationServerKey`` browsers subscribe with: the uncompressed P-256 point,
    base64url without padding."""
    point = vapid().public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(point)


def _local_http_allowed(host: str) -> bool:
    if not settings.WEBPUSH_ALLOW_LOCAL_HTTP:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint_allowed(endpoint: str) -> bool:
    """Whether the portal may post to ``endpoint``: https on a known push service (its host
    or a subdomain of it), or http on 127.0.0.1 when allowed (a local push service)."""
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return False
    if parts.username or parts.password or not host:
        return False
    if _local_http_allowed(host):
        return parts.scheme in {"http", "https"}
    if parts.scheme != "https":
        return False
    return any(
        host == allowed or host.endswith(f".{allowed}")
        for allowed in (name.lower().strip(".") for name in settings.WEBPUSH_SERVICE_HOSTS)
    )


def keys_valid(p256dh: str, auth: str) -> bool:
    """Whether the browser's keys are a P-256 point and a 16-byte secret."""
    try:
        point = b64url_decode(p256dh)
        secret = b64url_decode(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        return False
    return len(point) == 65 and len(secret) == 16


def _encoded(message: dict[str, str]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def _json_bytes(text: str) -> int:
    return len(json.dumps(text, ensure_ascii=False).encode()) - 2


def _cut(text: str, budget: int) -> str:
    """The longest start of ``text`` (an ellipsis added when cut) whose JSON form takes at
    most ``budget`` bytes; empty when even the ellipsis does not fit."""
    if _json_bytes(text) <= budget:
        return text
    low, high = 0, len(text)  # the answer's length lies in [low, high)
    while low < high - 1:
        middle = (low + high) // 2
        if _json_bytes(text[:middle].rstrip() + ELLIPSIS) <= budget:
            low = middle
        else:
            high = middle
    shortened = text[:low].rstrip() + ELLIPSIS
    return shortened if _json_bytes(shortened) <= budget else ""


def payload(
    *, title: str, body: str, url: str, tag: str, fallback_url: str = "/"
) -> dict[str, str]:
    """What the service worker shows, always small enough to send (``PAYLOAD_BYTES``,
    counted in UTF-8 as JSON): the body cut to ``BODY_LENGTH`` characters, a link longer
    than ``URL_BYTES`` replaced by ``fallback_url``, then the body, and last the title,
    shortened until the whole fits."""
    if len(body) > BODY_LENGTH:
        body = body[: BODY_LENGTH - 1].rstrip() + ELLIPSIS
    if _json_bytes(url) > URL_BYTES:
        url = fallback_url
    message = {"title": title, "body": body, "url": url, "tag": tag}
    for field in ("body", "title"):
        excess = len(_encoded(message)) - PAYLOAD_BYTES
        if excess > 0:
            message[field] = _cut(message[field], _json_bytes(message[field]) - excess)
    return message


def _origin(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


def send(subscription: PushSubscription, message: dict[str, str]) -> Outcome:
    """Encrypt ``message`` (JSON) for the browser and post it to its push service."""
    data = _encoded(message)
    if len(data) > PAYLOAD_BYTES:  # payload() never builds one
        raise ValueError("A push message must stay under 3 KB.")
    if not endpoint_allowed(subscription.endpoint):
        raise PushFailed("The endpoint is not a push service the portal accepts.")
    claims: dict[str, str | int] = {
        "sub": f"mailto:{settings.WEBPUSH_CONTACT_ADDRESS}",
        "aud": _origin(subscription.endpoint),
        "exp": int(time.time()) + TOKEN_SECONDS,
    }
    info: dict[str, Any] = {
        "endpoint": subscription.endpoint,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
    }
    try:
        webpush(
            info,
            data=data,
            vapid_private_key=vapid(),
            vapid_claims=claims,
            timeout=settings.WEBPUSH_TIMEOUT,
            ttl=TTL_SECONDS,
        )
    except WebPushException as error:
        status = error.response.status_code if error.response is not None else None
        if status in {404, 410}:
            return Outcome.GONE
        raise PushFailed(f"The push service answered {status}.") from error
    except requests.RequestException as error:
        raise PushFailed(
            f"The push service could not be reached: {type(error).__name__}."
        ) from error
    return Outcome.DELIVERED
