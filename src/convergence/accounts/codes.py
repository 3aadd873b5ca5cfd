"""One-time codes: the one place they are generated, digested, checked and used up.

Every single-use secret handed to a person is a :class:`~.models.OneTimeCode` row, whatever
it is for (``OneTimeCodePurpose``): an activation code printed on a letter, a password-reset
link or SMS code, a code confirming a recovery e-mail address or phone number. Three shapes:

* ``CodeKind.LETTERS`` — 12 characters from an alphabet without look-alikes (no I, O, 0, 1),
  printed in groups (``ABCD-EFGH-JKLM``, 60 bits): activation letters;
* ``CodeKind.DIGITS`` — 6 digits for an SMS or an e-mail to copy from;
* ``CodeKind.TOKEN`` — 48 URL-safe characters (240 bits) for a link.

Only a keyed digest is stored (HMAC-SHA256 with ``SECRET_KEY``) of the *normalised* code:
upper case, without spaces or dashes, so ``abcd efgh jklm`` is the code above. Letters and
digits codes are bound to their account and purpose in the digest, and checked against that
account's usable codes with a constant-time comparison; each miss counts one attempt on them
and the fifth kills them. Tokens are long enough to be looked up by their digest alone.

Issuing a code for a purpose invalidates the account's other usable codes for that purpose:
a reprinted letter or a new reset link makes the previous one worthless.
"""

from __future__ import annotations

import base64
import datetime
import enum
import hashlib
import hmac
import re
import secrets

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from convergence.accounts.models import OneTimeCode, User

MAX_ATTEMPTS = 5
# Nothing longer is ever issued; longer input is not worth hashing.
MAX_INPUT_LENGTH = 128

LETTERS_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LETTERS_LENGTH = 12
LETTERS_GROUP = 4
DIGITS_LENGTH = 6
TOKEN_BYTES = 30

_SEPARATORS = re.compile(r"[\s\-]+")


class CodeKind(enum.Enum):
    LETTERS = "letters"
    DIGITS = "digits"
    TOKEN = "token"  # noqa: S105 (a kind of code, not a secret)


def normalise(code: str) -> str:
    """The form a code is compared in: upper case, without spaces or dashes."""
    return _SEPARATORS.sub("", code).upper()


def matches(code: OneTimeCode, text: str) -> bool:
    """Whether ``text`` is the code stored as ``code`` (a short code or a token, any state)."""
    stored = code.digest.encode()
    text = text[:MAX_INPUT_LENGTH]
    bound = digest(text, purpose=code.purpose, user_id=code.user_id).encode()
    unbound = digest(text, purpose=code.purpose, user_id=None).encode()
    return hmac.compare_digest(stored, bound) | hmac.compare_digest(stored, unbound)


def generate(kind: CodeKind) -> str:
    """A fresh random code of ``kind``, in the form it is shown to people."""
    if kind is CodeKind.DIGITS:
        return "".join(secrets.choice("0123456789") for _ in range(DIGITS_LENGTH))
    if kind is CodeKind.TOKEN:
        return base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode().lower()
    raw = "".join(secrets.choice(LETTERS_ALPHABET) for _ in range(LETTERS_LENGTH))
    return "-".join(raw[i : i + LETTERS_GROUP] for i in range(0, LETTERS_LENGTH, LETTERS_GROUP))


def digest(code: str, *, purpose: str, user_id: int | None) -> str:
    """The keyed digest stored for ``code``; ``user_id`` is None for tokens only."""
    owner = "" if user_id is None else str(user_id)
    message = f"{purpose}:{owner}:{normalise(code)}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _usable(user: User, purpose: str, now: datetime.datetime) -> models.QuerySet[OneTimeCode]:
    return OneTimeCode.objects.filter(
        user=user,
        purpose=purpose,
        used_at__isnull=True,
        expires_at__gt=now,
        attempts__lt=MAX_ATTEMPTS,
    )


def invalidate_codes(user: User, purpose: str, *, now: datetime.datetime | None = None) -> int:
    """Make every usable code of ``user`` for ``purpose`` worthless (they expire now)."""
    now = now or timezone.now()
    return _usable(user, purpose, now).update(expires_at=now)


def issue_code(
    user: User,
    purpose: str,
    *,
    lifetime: datetime.timedelta,
    target: str = "",
    created_by: User | None = None,
    kind: CodeKind = CodeKind.LETTERS,
    now: datetime.datetime | None = None,
) -> str:
    """Create a code for ``user`` and return it in clear, the only time it exists in clear.

    The account's other usable codes for ``purpose`` are invalidated in the same transaction.
    ``target`` records where the code was sent (an address or number to confirm).
    """
    now = now or timezone.now()
    user_id = None if kind is CodeKind.TOKEN else user.pk
    with transaction.atomic():
        invalidate_codes(user, purpose, now=now)
        # Short codes may meet an old digest of the same account (a million 6-digit codes):
        # draw again rather than fail.
        for _attempt in range(20):
            code = generate(kind)
            try:
                with transaction.atomic():
                    OneTimeCode.objects.create(
                        user=user,
                        purpose=purpose,
                        target=target,
                        digest=digest(code, purpose=purpose, user_id=user_id),
                        created_at=now,
                        expires_at=now + lifetime,
                        created_by=created_by,
                    )
            except IntegrityError:
                continue
            return code
    raise RuntimeError("Could not draw a fresh one-time code.")


def count_failure(code: OneTimeCode, *, now: datetime.datetime | None = None) -> None:
    """Count one failed attempt on ``code``; the last allowed one kills it."""
    now = now or timezone.now()
    OneTimeCode.objects.filter(pk=code.pk).update(attempts=models.F("attempts") + 1)
    OneTimeCode.objects.filter(pk=code.pk, attempts__gte=MAX_ATTEMPTS, expires_at__gt=now).update(
        expires_at=now
    )


def find_code(
    user: User,
    purpose: str,
    code: str,
    *,
    target: str | None = None,
    now: datetime.datetime | None = None,
) -> OneTimeCode | None:
    """The usable code of ``user`` for ``purpose`` that ``code`` is, without using it up.

    A miss counts one attempt on each usable code of that account and purpose (five misses
    kill a code). ``target``, when given, must be where the code was sent.
    """
    now = now or timezone.now()
    candidates = list(_usable(user, purpose, now).order_by("-created_at"))
    typed = digest(code[:MAX_INPUT_LENGTH], purpose=purpose, user_id=user.pk).encode()
    found: OneTimeCode | None = None
    for candidate in candidates:
        # Every candidate is compared, so the time taken does not tell which one matched.
        if hmac.compare_digest(candidate.digest.encode(), typed) and found is None:
            found = candidate
    if found is not None and target is not None and found.target != target:
        found = None
    if found is None:
        for candidate in candidates:
            count_failure(candidate, now=now)
    return found


def use_code(code: OneTimeCode, *, now: datetime.datetime | None = None) -> bool:
    """Mark ``code`` used if it still is usable; False if it was used, expired or killed.

    A conditional update: two requests racing with the same code cannot both succeed.
    """
    now = now or timezone.now()
    updated = OneTimeCode.objects.filter(
        pk=code.pk, used_at__isnull=True, expires_at__gt=now, attempts__lt=MAX_ATTEMPTS
    ).update(used_at=now)
    if updated:
        code.used_at = now
    return bool(updated)


def redeem_code(
    user: User,
    purpose: str,
    code: str,
    *,
    target: str | None = None,
    now: datetime.datetime | None = None,
) -> OneTimeCode | None:
    """Check ``code`` (as :func:`find_code`) and use it up; None if it is not a usable code."""
    found = find_code(user, purpose, code, target=target, now=now)
    if found is None or not use_code(found, now=now):
        return None
    return found


def find_token(
    purpose: str, token: str, *, now: datetime.datetime | None = None
) -> OneTimeCode | None:
    """The usable code a link's token is, found by its digest; not used up.

    No attempt counting: a token is 240 random bits, and a digest of unknown input cannot be
    steered to reveal anything by timing.
    """
    now = now or timezone.now()
    if not token or len(token) > MAX_INPUT_LENGTH:
        return None
    return (
        OneTimeCode.objects.filter(
            digest=digest(token, purpose=purpose, user_id=None),
            purpose=purpose,
            used_at__isnull=True,
            expires_at__gt=now,
            attempts__lt=MAX_ATTEMPTS,
        )
        .select_related("user")
        .first()
    )


def redeem_token(
    purpose: str, token: str, *, now: datetime.datetime | None = None
) -> OneTimeCode | None:
    """The usable code a link's token is, used up; None if it is not (or no longer) usable."""
    found = find_token(purpose, token, now=now)
    if found is None or not use_code(found, now=now):
        return None
    return found
