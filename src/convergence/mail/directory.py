"""Recipients from the académie's directory, as the webmail's address field suggests them.

Who may be found is decided by ``User.objects.reachable_by`` alone; this module only
matches what was typed. A word matches the start of a first name, of a last name (or of
one of their parts: « Marie » finds « Anne-Marie », « fontaine » finds « De La
Fontaine »), of a login or of an address, whatever the case and the accents.

Accents are handled by the pattern rather than by the database: each letter typed becomes
a character class of that letter with its accents, in both cases (``e`` →
``[eéèêëEÉÈÊË…]``), matched with ``__regex`` — Python's ``re`` on SQLite (Django registers
it), POSIX regular expressions on PostgreSQL. The same query thus finds « Héloïse » from
« helo », « HÉLO » or « hélo » on both databases, without an extension or a stored
unaccented copy of the names.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from convergence.accounts.models import Assignment, Role, User

MIN_LENGTH = 2
MAX_RESULTS = 8
# More words or characters than a name needs are cut, not refused.
MAX_WORDS = 4
MAX_QUERY_LENGTH = 80

# Where a part of a name starts: the beginning, or after a space, apostrophe or hyphen.
_NAME_START = "(^|[ '\u2019-])"


def _accented_forms() -> dict[str, str]:
    """For each ASCII letter, every Latin letter with accents (both cases) that is it."""
    forms: dict[str, set[str]] = {}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFKD", char)[:1].lower()
        if len(base) == 1 and "a" <= base <= "z" and char.isalpha():
            forms.setdefault(base, set()).add(char)
    return {
        letter: letter + letter.upper() + "".join(sorted(forms.get(letter, set())))
        for letter in "abcdefghijklmnopqrstuvwxyz"
    }


_FORMS = _accented_forms()
# Ligatures typed as two letters (« oe » finds « Œdipe », « ae » finds « Lætitia »).
_LIGATURES = {"oe": "œŒ", "ae": "æÆ"}


class Recipient(NamedTuple):
    """One suggestion: who, at which address, and what they are where."""

    name: str
    address: str
    label: str


def normalize(text: str) -> str:
    """Lower-case, without accents: what the pattern is built from (« Hélo » → « helo »)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    return folded.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")


def words_of(text: str) -> list[str]:
    """The words of a query, normalised; empty when it is too short to search."""
    words = normalize(text[:MAX_QUERY_LENGTH]).split()[:MAX_WORDS]
    if sum(len(word) for word in words) < MIN_LENGTH:
        return []
    return words


def _letters(word: str) -> str:
    """A regular expression matching ``word`` whatever the case and accents."""
    parts: list[str] = []
    index = 0
    while index < len(word):
        pair = word[index : index + 2]
        char = word[index]
        if pair in _LIGATURES:
            first, second = _FORMS[pair[0]], _FORMS[pair[1]]
            parts.append(f"([{first}][{second}]|[{_LIGATURES[pair]}])")
            index += 2
            continue
        if char in _FORMS:
            parts.append(f"[{_FORMS[char]}]")
        elif char.isalpha():
            parts.append(f"[{re.escape(char)}{re.escape(char.upper())}]")
        else:
            parts.append(re.escape(char))
        index += 1
    return "".join(parts)


def _matching(word: str) -> models.Q:
    letters = _letters(word)
    in_names = _NAME_START + letters
    return (
        models.Q(first_name__regex=in_names)
        | models.Q(last_name__regex=in_names)
        | models.Q(login__regex="^" + letters)
        | models.Q(email__regex="^" + letters)
    )


def _label(person: User, near: set[int]) -> str:
    """« Enseignant — Collège Victor Hugo », preferring an establishment shared with the
    person searching, and saying how many others there are; « Parent » only for someone
    who is nothing else this year."""
    held = list(person.current_roles)  # type: ignore[attr-defined]
    assignments = sorted(
        [one for one in held if one.role != Role.PARENT] or held,
        key=lambda one: (one.establishment_id not in near, one.establishment.name, one.role),
    )
    if not assignments:
        return ""
    first = assignments[0]
    role = str(Role(first.role).label)
    if first.role == Role.ELEVE and first.division:
        role = _("%(role)s, %(division)s") % {"role": role, "division": first.division}
    label = _("%(role)s — %(establishment)s") % {
        "role": role,
        "establishment": first.establishment.name,
    }
    others = len({held.establishment_id for held in assignments} - {first.establishment_id})
    # A parent's other children's schools are none of the searcher's business.
    if others and first.role != Role.PARENT:
        label = ngettext(
            "%(label)s et %(count)d autre établissement",
            "%(label)s et %(count)d autres établissements",
            others,
        ) % {"label": label, "count": others}
    return label


def search_recipients(person: User, text: str, limit: int = MAX_RESULTS) -> list[Recipient]:
    """Up to ``limit`` (at most ``MAX_RESULTS``) people ``person`` may write to whose names,
    login or address start with every word of ``text``, by last name; nothing for fewer than
    ``MIN_LENGTH`` characters. People without an address of their own are left out. Three
    queries at most: the people, their roles this school year, the searcher's own
    establishments (to name a shared one first in the labels)."""
    words = words_of(text)
    if not words:
        return []
    current = (
        Assignment.objects.current()
        .select_related("establishment")
        .only("user", "role", "division", "establishment__name")
    )
    matches = User.objects.reachable_by(person).exclude(email="")
    for word in words:
        matches = matches.filter(_matching(word))
    people = list(
        matches.order_by("last_name", "first_name", "pk")
        .only("first_name", "last_name", "email")
        .prefetch_related(models.Prefetch("assignments", current, to_attr="current_roles"))[
            : max(0, min(limit, MAX_RESULTS))
        ]
    )
    if not people:
        return []
    near = set(
        Assignment.objects.current().filter(user=person).values_list("establishment_id", flat=True)
    )
    return [
        Recipient(name=found.get_full_name(), address=found.email, label=_label(found, near))
        for found in people
    ]
