"""The dashboard's « Messagerie » widget: unread count and the five latest messages.

Deferred (core/widgets.py): it reads the IMAP server, so the dashboard never waits for it;
the server being down degrades this box only.
"""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest

from convergence.accounts.models import User
from convergence.accounts.permissions import has_academic_mailbox
from convergence.mail import connections, mailbox

LATEST = 5


def latest_messages(request: HttpRequest) -> dict[str, Any] | None:
    user = request.user
    if not has_academic_mailbox(user):
        return None
    with connections.session(cast(User, user)) as connection:
        unread = mailbox.unread_in_inbox(connection)
        page = mailbox.page(connection, mailbox.INBOX, number=1)
    return {"unread": unread, "messages": page.messages[:LATEST]}
