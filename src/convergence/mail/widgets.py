"""The dashboard's « Messagerie » widget: unread count and the five latest messages.

Deferred (core/widgets.py): it reads the IMAP server, so the dashboard never waits for it;
the server being down degrades this box only.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.cache import cache
from django.http import HttpRequest

from convergence.accounts.models import User
from convergence.accounts.permissions import has_academic_mailbox
from convergence.mail import alerts, connections, mailbox, rules_actions

LATEST = 5


def latest_messages(request: HttpRequest) -> dict[str, Any] | None:
    user = request.user
    if not has_academic_mailbox(user):
        return None
    with connections.session(cast(User, user)) as connection:
        unread = mailbox.unread_in_inbox(connection)
        page = mailbox.page(connection, mailbox.INBOX, number=1)
    vacation = rules_actions.vacation_notice(cast(User, user))
    return {
        "unread": unread,
        "messages": page.messages[:LATEST],
        "vacation": vacation,
        # « Me notifier » rules' alerts (issue 18's notification centre will show them too).
        "alerts": list(alerts.unseen_of(cast(User, user))[: alerts.SHOWN]),
    }


# --- The header's « Messagerie » link and its unread badge -----------------------------------

MAILBOX_CACHE_SECONDS = 300
UNREAD_CACHE_SECONDS = 60


def shows_mail_link(user: Any) -> bool:
    """Whether the header shows « Messagerie » (cached: it runs on every page)."""
    key = f"mail:has-mailbox:{user.pk}"
    known = cache.get(key)
    if known is None:
        known = has_academic_mailbox(user)
        cache.set(key, known, MAILBOX_CACHE_SECONDS)
    return bool(known)


def unread_count(user: User) -> int | None:
    """The INBOX's unread count, kept a minute per person (every page's badge asks for it);
    ``None`` when the server cannot say."""
    key = f"mail:unread:{user.pk}"
    known = cache.get(key)
    if known is not None:
        return int(known)
    try:
        with connections.session(user) as connection:
            count = mailbox.unread_in_inbox(connection)
    except connections.MailUnavailable:
        return None
    cache.set(key, count, UNREAD_CACHE_SECONDS)
    return count


def forget_unread(user_pk: int) -> None:
    cache.delete(f"mail:unread:{user_pk}")
