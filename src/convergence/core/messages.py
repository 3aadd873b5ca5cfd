"""Django's messages, stored as by default (a signed cookie, the session when it overflows),
under a cookie name of the settings: ``__Host-…`` over HTTPS, like the session and CSRF
cookies. Django's ``CookieStorage`` hard-codes ``messages`` and has no setting for it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.messages.storage.session import SessionStorage


class NamedCookieStorage(CookieStorage):
    """``CookieStorage`` under ``settings.MESSAGE_COOKIE_NAME``, read per request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.cookie_name = settings.MESSAGE_COOKIE_NAME
        super().__init__(*args, **kwargs)


class MessageStorage(FallbackStorage):
    storage_classes = (NamedCookieStorage, SessionStorage)
