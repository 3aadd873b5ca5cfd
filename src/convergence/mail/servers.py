"""Which of the académie's servers may call which of the mail app's server endpoints.

Every server client (``sso.servers``) may ask the mail endpoints — the app-password check,
the sending limits — except the one « me notifier » uses (``MAIL_NOTIFY_CLIENT_ID``): its
secret sits in a file the mail user can read (Pigeonhole runs the notify program as that
user, as every IMAP process), so it may only post notifications, and the notification
endpoint takes only it. Unset, any server client may do both (the demo, a test instance).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from convergence.sso.servers import authenticated_server


def mail_server(request: HttpRequest) -> str | None:
    """The client id of the mail server making ``request``; ``None`` for the notify client."""
    client = authenticated_server(request)
    notify = settings.MAIL_NOTIFY_CLIENT_ID
    return None if client is None or (notify and client == notify) else client


def notifying_server(request: HttpRequest) -> str | None:
    """The client id allowed to post a rule's notification, or ``None``."""
    client = authenticated_server(request)
    notify = settings.MAIL_NOTIFY_CLIENT_ID
    return None if client is None or (notify and client != notify) else client
