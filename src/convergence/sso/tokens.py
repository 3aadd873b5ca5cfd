"""Refresh-token families and the reads of the token endpoint.

A family is every refresh token that rotation derived from one authorization code. It lives
at most ``OIDC_REFRESH_ABSOLUTE_SECONDS`` from its first token, however often it rotated.
New families get a time-ordered id (a UUID version 7, RFC 9562 §5.7: the first 48 bits are
the Unix time in milliseconds), so their birth is read from the id itself instead of from
the oldest row of the family, which costs a query that grows with every rotation. The id is
the server's own (never sent to a client), so it can be trusted. Families born before this
(random version 4 ids) are dated by their oldest row, as before.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import time
import uuid

from django.conf import settings
from django.db import router
from django.db.models import Min
from django.utils import timezone
from oauth2_provider.models import RefreshToken

from convergence.sso import fetch

UUID_VERSION_TIME_ORDERED = 7


def new_family(*, born: datetime.datetime | None = None) -> uuid.UUID:
    """A new family id: a UUID version 7 carrying the time it was made (or ``born``)."""
    moment = time.time() if born is None else born.timestamp()
    milliseconds = int(moment * 1000)
    value = (milliseconds & ((1 << 48) - 1)) << 80
    value |= UUID_VERSION_TIME_ORDERED << 76
    value |= secrets.randbits(12) << 64
    value |= 0b10 << 62  # the RFC 4122 variant
    value |= secrets.randbits(62)
    return uuid.UUID(int=value)


def family_born(family: uuid.UUID) -> datetime.datetime | None:
    """When the family's first token was issued (``None`` for a family with no row left)."""
    if family.version == UUID_VERSION_TIME_ORDERED:
        milliseconds = family.int >> 80
        return datetime.datetime.fromtimestamp(milliseconds / 1000, tz=datetime.UTC)
    born: datetime.datetime | None = RefreshToken.objects.filter(token_family=family).aggregate(
        first=Min("created")
    )["first"]
    return born


def family_expired(family: uuid.UUID | None, *, now: datetime.datetime | None = None) -> bool:
    """True when the family is past its absolute lifetime (or has no id at all)."""
    if family is None:
        return True
    born = family_born(family)
    limit = datetime.timedelta(seconds=settings.OIDC_REFRESH_ABSOLUTE_SECONDS)
    return born is None or born + limit <= (now or timezone.now())


def checksum(token: str) -> str:
    """How the toolkit finds a token: the SHA-256 of its value (``TokenChecksumField``)."""
    return hashlib.sha256(token.encode()).hexdigest()


# What the grant reads of the presented refresh token, its access token and its owner.
PRESENTED_SHAPE = fetch.Shape(
    model=RefreshToken,
    fields=("id", "revoked", "token_family", "application", "resource", "user", "access_token"),
    related=(
        ("access_token", ("id", "expires", "scope")),
        ("user", ("id", "state")),
    ),
    lookup="token_checksum",
    nulls_then_latest="revoked",
)


def presented_refresh_token(token: str) -> RefreshToken | None:
    """The refresh token a client presents, with its access token and its owner, in one
    statement (``fetch.py``).

    Several rows may share a checksum (the toolkit's uniqueness is ``(token_checksum,
    revoked)``): the live one wins, otherwise the most recently revoked, as in the toolkit's
    ``validate_refresh_token``."""
    found: RefreshToken | None = fetch.first_joined(
        router.db_for_read(RefreshToken), PRESENTED_SHAPE, checksum(token)
    )
    return found
