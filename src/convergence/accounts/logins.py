"""Academic logins built from people's names: first initial, last name, then a number."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TypeVar

from django.db import IntegrityError, transaction

T = TypeVar("T")

# The longest base; the collision number comes on top, far within the column's 64 characters.
BASE_MAX_LENGTH = 20

# Used when neither name has a single Latin letter (e.g. only Greek or Cyrillic script):
# the login must still match the database's shape, and numbering keeps it unique.
FALLBACK_BASE = "user"

# Latin letters that NFKD does not decompose into a base letter plus accents. Keys are
# lower-case: the text is lower-cased first, which folds Œ, Æ, ẞ, Ø, Ł, Đ, Þ and Ð onto them.
LETTERS = {
    "œ": "oe",
    "æ": "ae",
    "ß": "ss",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "\u0131": "i",  # Turkish dotless i, escaped as it looks like an i
    "þ": "th",
    "ð": "d",
    "ħ": "h",
    "ŧ": "t",
}
_LETTERS_TABLE = str.maketrans(LETTERS)
# str.translate with a table is slow per character; most names have none of these letters.
_HAS_LETTER = re.compile("[" + "".join(LETTERS) + "]")

# Every ASCII byte but a-z, deleted with bytes.translate (faster than a regex in bulk).
# Digits go too: then a trailing number in a login is always the collision counter.
_NOT_LETTER = bytes(code for code in range(128) if not ord("a") <= code <= ord("z"))


class LoginAllocationError(Exception):
    """Every attempt to create an account collided with a login taken in the meantime."""


@lru_cache(maxsize=65536)
def transliterate(text: str) -> str:
    """Lower-case ASCII letters of ``text``: accents and every non-letter dropped.

    ``"Éloïse"`` → ``"eloise"``, ``"N'Guyen-Çelik"`` → ``"nguyencelik"``, ``"Œdipe"`` →
    ``"oedipe"``. Letters of other scripts (Greek, Cyrillic…) are dropped, not romanised.
    """
    # Cached because bulk imports repeat the same first and last names thousands of times.
    if text.isascii():
        raw = text.lower().encode("ascii")
    else:
        decomposed = unicodedata.normalize("NFKD", text).lower()
        if _HAS_LETTER.search(decomposed):
            decomposed = decomposed.translate(_LETTERS_TABLE)
        # Combining accents and letters of other scripts are all outside ASCII.
        raw = decomposed.encode("ascii", "ignore")
    # Apostrophes, hyphens, spaces and digits are the ASCII "not a letter" left.
    return raw.translate(None, _NOT_LETTER).decode("ascii")


def base_login(first_name: str, last_name: str) -> str:
    """The login before collision numbering: ``("Jean", "Dupont")`` → ``"jdupont"``.

    The first letter of the first name, then the whole last name, cut so that the base is
    at most ``BASE_MAX_LENGTH`` characters. Without a usable first name, the last name
    alone; without a usable last name, the first name alone; without either,
    ``FALLBACK_BASE``. The result is always non-empty lower-case ``a-z``.
    """
    first = transliterate(first_name)
    last = transliterate(last_name)
    if first and last:
        return first[0] + last[: BASE_MAX_LENGTH - 1]
    return (last or first or FALLBACK_BASE)[:BASE_MAX_LENGTH]


def next_free_login(base: str, taken: set[str]) -> str:
    """``base`` if free, else the first free of ``base2``, ``base3``…"""
    return _next_free(base, taken, 2)


def _next_free(base: str, taken: set[str], start: int) -> str:
    if start <= 2 and base not in taken:
        return base
    number = start
    while f"{base}{number}" in taken:
        number += 1
    return f"{base}{number}"


def taken_logins(base: str) -> set[str]:
    """Existing logins that are ``base`` or ``base`` followed by a number, in one query."""
    # Imported here so that the pure functions above work without Django being set up.
    from django.db import connections

    from convergence.accounts.models import User

    # The database only narrows the rows down with the unique index on login; the exact
    # shape is checked here, rather than with a REGEXP that SQLite calls in Python per row.
    candidates = User.objects.filter(login__startswith=base)
    if connections[candidates.db].vendor == "sqlite":
        # SQLite's LIKE ignores case, so its index cannot answer it; a range on the
        # binary-collated column can. Between base and base + ":" (the character after "9")
        # lie base and base followed by a digit, "-" or ".": every numbered login and a few
        # others, dropped below. PostgreSQL answers the LIKE prefix from the column's
        # pattern_ops index; a range there would follow the database's collation, not bytes.
        candidates = candidates.filter(login__gte=base, login__lt=f"{base}:")
    numbered = re.compile(rf"{re.escape(base)}[0-9]*")
    return {
        login for login in candidates.values_list("login", flat=True) if numbered.fullmatch(login)
    }


def allocate_login(first_name: str, last_name: str) -> str:
    """The first free login for this person right now.

    Only a proposal: another process may take it before it is saved. To create an account,
    use ``create_with_unique_login``, which retries on collision.
    """
    base = base_login(first_name, last_name)
    return next_free_login(base, taken_logins(base))


def create_with_unique_login(
    *,
    first_name: str,
    last_name: str,
    create: Callable[[str], T],
    attempts: int = 20,
) -> T:
    """Call ``create(login)`` with the first free login, retrying while logins collide.

    ``create`` must insert the ``User`` with that login (and may insert more). The database's
    unique constraint on ``login`` is the arbiter: two processes that both chose ``jdupont``
    cannot both insert it, so the loser gets an ``IntegrityError``, its savepoint is rolled
    back, and it tries again with the next number. Racing processes thus always end up with
    distinct logins, on SQLite and PostgreSQL alike, without any table lock.

    An ``IntegrityError`` that is not about the login (the login is still free afterwards)
    is re-raised as is. After ``attempts`` collisions, ``LoginAllocationError`` is raised.
    """
    from convergence.accounts.models import User

    base = base_login(first_name, last_name)
    collision: IntegrityError | None = None
    for _ in range(attempts):
        login: str | None = None
        # The read is inside the savepoint: with SQLite's IMMEDIATE transactions this holds
        # the write lock from read to insert, so SQLite never even collides.
        try:
            with transaction.atomic():
                login = next_free_login(base, taken_logins(base))
                return create(login)
        except IntegrityError as error:
            # Database-agnostic test of which constraint failed: messages and constraint
            # names differ between SQLite and PostgreSQL, the committed row does not.
            if login is None or not User.objects.filter(login=login).exists():
                raise
            collision = error
    raise LoginAllocationError(
        f"No free login for base {base!r} after {attempts} attempts."
    ) from collision


def allocate_logins_bulk(names: Iterable[tuple[str, str]], taken: set[str]) -> list[str]:
    """Logins for many ``(first_name, last_name)`` pairs at once, in order, all distinct.

    ``taken`` holds the logins already in use (load them once, e.g. with
    ``set(User.objects.values_list("login", flat=True))``) and receives the new ones.
    Nothing is written or locked: an account created elsewhere meanwhile may take one of
    these logins, so seed while nothing else creates accounts, or expect an
    ``IntegrityError`` from the insert and start again.
    """
    # Next number to try per base: without it, the thousandth "jmartin" would test
    # jmartin2…jmartin999 first, quadratic in the size of the family.
    next_number: dict[str, int] = {}
    logins: list[str] = []
    for first_name, last_name in names:
        base = base_login(first_name, last_name)
        login = _next_free(base, taken, next_number.get(base, 2))
        next_number[base] = int(login[len(base) :] or 1) + 1
        taken.add(login)
        logins.append(login)
    return logins
