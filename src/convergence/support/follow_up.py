"""The private follow-up link of a ticket opened without an account (the public form).

Whoever opened it cannot sign in, so the link is their key to the ticket: it reads the
thread (never the internal notes), downloads its files and replies. It is a signed token
(``django.core.signing``, a salt of its own) carrying the ticket's number and a keyed
digest of the requester's address, so it cannot be guessed or altered, names no address in
clear, and dies when the address changes; each link is valid ``VALID_DAYS`` after it was
made (a new one comes with each agent's reply). It also carries the ticket's
``follow_up_generation``: an agent raises it (``actions.tickets.revoke_follow_up_links``) to
void every link given so far, a leaked one before it expires. The pages it opens are never kept by a
shared cache, never indexed and never sent as a referrer, since the token is in the URL.

A leaked link must not flood the agents: replies through it are limited per ticket
(``REPLIES_PER_HOUR``, the one limiter of ``core.ratelimit``).
"""

from __future__ import annotations

from django.core import signing
from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import salted_hmac

from convergence.core import ratelimit
from convergence.core.links import absolute_url
from convergence.support.models import Ticket

SALT = "convergence.support.follow_up"
VALID_DAYS = 90
VALID_SECONDS = VALID_DAYS * 24 * 3600
REPLIES_PER_HOUR = 20
HOUR = 3600


class InvalidLink(Exception):
    """The token was altered, names no ticket opened without an account, its address
    changed since, or its links were revoked since."""


class ExpiredLink(InvalidLink):
    """The token is genuine but older than ``VALID_DAYS``."""


def _address_digest(address: str) -> str:
    return salted_hmac(SALT, address.strip().lower()).hexdigest()[:24]


def token_for(ticket: Ticket) -> str:
    """A fresh token for ``ticket``, which was opened without an account."""
    if ticket.requester_id is not None or not ticket.requester_email:
        raise ValueError("Only a ticket opened without an account has a follow-up link.")
    payload = {
        "t": ticket.pk,
        "a": _address_digest(ticket.requester_email),
        "g": ticket.follow_up_generation,
    }
    return signing.dumps(payload, salt=SALT)


def url_for(ticket: Ticket, request: HttpRequest | None = None) -> str:
    """The follow-up link of ``ticket`` on the official host, for an e-mail or a page."""
    path = reverse("support:follow_up", kwargs={"token": token_for(ticket)})
    return absolute_url(path, request)


def ticket_of(token: str) -> Ticket:
    """The ticket ``token`` opens; :class:`ExpiredLink` past its time, :class:`InvalidLink`
    when altered, no longer matching the ticket's address or revoked since."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=VALID_SECONDS)
    except signing.SignatureExpired:
        raise ExpiredLink from None
    except signing.BadSignature:
        raise InvalidLink from None
    if not isinstance(payload, dict) or not isinstance(payload.get("t"), int):
        raise InvalidLink
    ticket = (
        Ticket.objects.filter(pk=payload["t"], requester__isnull=True)
        .exclude(requester_email="")
        .first()
    )
    if ticket is None or payload.get("a") != _address_digest(ticket.requester_email):
        raise InvalidLink
    # A link made before generations existed names none: it is of the first one.
    if payload.get("g", 0) != ticket.follow_up_generation:
        raise InvalidLink
    return ticket


def reply_wait(ticket: Ticket) -> int:
    """Count one reply through the link; seconds to wait instead when past the limit."""
    return ratelimit.hit(
        ratelimit.key("support-follow-up-reply", ticket.pk), limit=REPLIES_PER_HOUR, window=HOUR
    )
