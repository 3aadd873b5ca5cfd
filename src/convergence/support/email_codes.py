"""The code that confirms the address of someone writing to the support without an account.

Kept in the person's session (digest, address, expiry, attempts), never in a table: it
proves only that this browser reads this mailbox. Whether an account uses the address is
never looked at, so nothing is learnt about accounts.

The limits (``core.ratelimit``, atomic, failing closed) follow the sign-in's model: many
parents write from one school or town-hall address, so a client address is never limited by
how often it sends but by how many *distinct* mailboxes it asks codes for, sized well above
what a busy help desk evening brings from one place:

* a mailbox gets at most ``SENDS_PER_HOUR`` codes, from wherever asked (no mail bombing);
* one client address asks codes for at most ``MAILBOXES_PER_ADDRESS`` distinct mailboxes an
  hour, and the académie sends at most ``SENDS_PER_HOUR_ACADEMIE`` codes an hour in all
  (the form is not a relay for a bot with many addresses);
* a code allows ``MAX_ATTEMPTS`` guesses, and a mailbox at most ``GUESSES_PER_HOUR`` (its
  codes' tries, counted atomically whatever the sessions) out of a million: a client address
  is only kept from hammering (``CHECKS_PER_HOUR_ADDRESS``), never from confirming its code.

A mailbox is the address without its ``+tag``; a client is an IPv4 address or an IPv6 /64."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest

from convergence.core import ratelimit
from convergence.core.http import client_ip
from convergence.outbox import mail

SESSION_KEY = "support_public_code"
VALID_SECONDS = 30 * 60
MAX_ATTEMPTS = 5
SENDS_PER_HOUR = 3
MAILBOXES_PER_ADDRESS = 60
SENDS_PER_HOUR_ACADEMIE = 600
CHECKS_PER_HOUR_ADDRESS = 600
GUESSES_PER_HOUR = SENDS_PER_HOUR * MAX_ATTEMPTS
HOUR = 3600


def _digest(code: str, email: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{email.lower()}|{code}".encode(), hashlib.sha256).hexdigest()


def mailbox_of(email: str) -> str:
    """Whom an address reaches, for the limits: ``parent+1@…`` and ``parent+2@…`` are one
    mailbox (a keyed digest: the limiter never holds an address)."""
    local, _at, domain = email.strip().lower().rpartition("@")
    return _digest("", f"{local.split('+', 1)[0]}@{domain}")


def client_unit(request: HttpRequest) -> str:
    """The client a limit counts: an IPv4 address, or an IPv6 /64 (one subscriber's, which a
    bot would otherwise spend one address of at a time)."""
    ip = client_ip(request)
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return ip


def send_code(request: HttpRequest, email: str) -> int:
    """Mail a fresh 6-digit code to ``email``; seconds to wait instead when limited.

    The client's limits are judged first, so a client past them spends nothing of the
    mailbox's own quota (or a bot could keep chosen parents from getting a code)."""
    mailbox = mailbox_of(email)
    mailboxes, _new = ratelimit.count_distinct(
        ratelimit.key("support-code-send", "ip", client_unit(request)), mailbox, window=HOUR
    )
    if mailboxes > MAILBOXES_PER_ADDRESS:
        return HOUR
    wait = ratelimit.hit(
        ratelimit.key("support-code-send", "email", mailbox), limit=SENDS_PER_HOUR, window=HOUR
    )
    if wait:
        return wait
    wait = ratelimit.hit(
        ratelimit.key("support-code-send", "academie"), limit=SENDS_PER_HOUR_ACADEMIE, window=HOUR
    )
    if wait:
        return wait
    code = f"{secrets.randbelow(10**6):06d}"
    request.session[SESSION_KEY] = {
        "email": email,
        "digest": _digest(code, email),
        "expires": time.time() + VALID_SECONDS,
        "attempts": 0,
    }
    mail.send([email], "support/mail/ticket_code", {"code": code, "minutes": VALID_SECONDS // 60})
    return 0


def pending_email(request: HttpRequest) -> str:
    state: dict[str, Any] | None = request.session.get(SESSION_KEY)
    if not state or state["expires"] < time.time() or state["attempts"] >= MAX_ATTEMPTS:
        return ""
    return str(state["email"])


def check_code(request: HttpRequest, code: str) -> tuple[str, int]:
    """(the confirmed address, 0) when ``code`` is right — it is then used up; ("", 0) when
    wrong; ("", seconds) when this client tried too often."""
    wait = ratelimit.hit(
        ratelimit.key("support-code-check", client_unit(request)),
        limit=CHECKS_PER_HOUR_ADDRESS,
        window=HOUR,
    )
    if wait:
        return "", wait
    email = pending_email(request)
    if not email:
        return "", 0
    # The tries kept in the session bound one code, but parallel requests sharing a session
    # all read the same count: the mailbox's own counter, atomic, bounds every guess.
    wait = ratelimit.hit(
        ratelimit.key("support-code-check", "email", mailbox_of(email)),
        limit=GUESSES_PER_HOUR,
        window=HOUR,
    )
    if wait:
        return "", wait
    state = request.session[SESSION_KEY]
    if hmac.compare_digest(state["digest"], _digest(code.strip(), email)):
        del request.session[SESSION_KEY]
        return email, 0
    state["attempts"] += 1
    request.session[SESSION_KEY] = state
    return "", 0
