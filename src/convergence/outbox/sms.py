"""Sending SMS: the one adapter between the portal and an SMS provider.

``send_sms(to, body)`` sends a text to a French mobile number in international form
(``+33612345678``, see ``normalise_french_mobile``) through the backend named by
``settings.SMS_BACKEND``:

* ``"outbox"`` (development, the demo, tests): the message is stored as an ``SmsMessage`` row,
  readable in the admin; nothing leaves the machine.
* ``"http"``: the message is posted to the provider's HTTP API. The request is::

      POST {SMS_HTTP_URL}
      Authorization: Bearer {SMS_HTTP_TOKEN}
      Content-Type: application/json

      {"to": "+33612345678", "from": "{SMS_SENDER}", "text": "…"}

  Any 2xx answer means the provider accepted the message. Another status, a timeout
  (``SMS_TIMEOUT_SECONDS``, for connecting and for reading) or a network error raises
  ``SmsError``; the message text (it may hold a code) is never logged.

Most providers (or a small gateway in front of them) accept this shape; another shape means
another backend class here, nothing elsewhere.
"""

from __future__ import annotations

import logging
import re
from typing import Protocol

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext_lazy as _

from convergence.outbox.models import SmsMessage

logger = logging.getLogger(__name__)

# 06 and 07 are the French mainland mobile prefixes (ARCEP numbering plan).
_FRENCH_MOBILE = re.compile(r"^0[67][0-9]{8}$")
_SEPARATORS = re.compile(r"[\s.\-()]")


class SmsError(Exception):
    """The SMS could not be handed to the provider (refused, timed out, unreachable)."""


def normalise_french_mobile(value: str) -> str:
    """``06 12 34 56 78`` (or ``+33 6…``, ``0033 6…``) → ``+33612345678``.

    Raises ``ValidationError`` with a French message for anything else: only French mobile
    numbers can receive the portal's codes.
    """
    number = _SEPARATORS.sub("", value or "")
    if number.startswith("+33"):
        number = "0" + number[3:]
    elif number.startswith("0033"):
        number = "0" + number[4:]
    if not _FRENCH_MOBILE.match(number):
        raise ValidationError(
            _("Saisissez un numéro de téléphone mobile français, par exemple 06 12 34 56 78."),
            code="invalid_phone",
        )
    return "+33" + number[1:]


def mask_phone(number: str) -> str:
    """``+33612345678`` → ``06 •• •• •• 78``: enough for its owner to recognise it."""
    if not number.startswith("+33") or len(number) != 12:
        return "•" * 6
    return f"0{number[3]} •• •• •• {number[-2:]}"


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> None: ...


class OutboxBackend:
    """Keeps the message in the database (``SmsMessage``) instead of sending it."""

    def send(self, to: str, body: str) -> None:
        SmsMessage.objects.create(to=to, body=body)


class HttpBackend:
    """Posts the message to the provider's HTTP API (request described in the module)."""

    def __init__(self, *, url: str, token: str, sender: str, timeout: float) -> None:
        if not url:
            raise ImproperlyConfigured("SMS_BACKEND is 'http' but SMS_HTTP_URL is empty.")
        self.url = url
        self.token = token
        self.sender = sender
        self.timeout = timeout

    def send(self, to: str, body: str) -> None:
        try:
            response = requests.post(
                self.url,
                json={"to": to, "from": self.sender, "text": body},
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=(self.timeout, self.timeout),
            )
        except requests.Timeout as error:
            logger.warning("SMS provider timed out after %ss", self.timeout)
            raise SmsError("SMS provider timed out") from error
        except requests.RequestException as error:
            logger.warning("SMS provider unreachable: %s", type(error).__name__)
            raise SmsError("SMS provider unreachable") from error
        if not 200 <= response.status_code < 300:
            logger.warning("SMS provider refused the message: HTTP %s", response.status_code)
            raise SmsError(f"SMS provider answered HTTP {response.status_code}")


def get_backend() -> SmsBackend:
    """The backend ``settings.SMS_BACKEND`` names, read at call time."""
    name = settings.SMS_BACKEND
    if name == "outbox":
        return OutboxBackend()
    if name == "http":
        return HttpBackend(
            url=settings.SMS_HTTP_URL,
            token=settings.SMS_HTTP_TOKEN,
            sender=settings.SMS_SENDER,
            timeout=settings.SMS_TIMEOUT_SECONDS,
        )
    raise ImproperlyConfigured(f"Unknown SMS_BACKEND {name!r} (expected 'outbox' or 'http').")


def send_sms(to: str, body: str) -> None:
    """Send ``body`` to ``to`` (a number already normalised); raises ``SmsError`` on failure."""
    get_backend().send(to, body)
