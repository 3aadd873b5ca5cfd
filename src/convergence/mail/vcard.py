"""vCard files of the address book: written as vCard 3.0 (RFC 2426) in UTF-8, read from 3.0,
4.0 (RFC 6350) and the 2.1 that old phones still export.

Written: one card per contact with FN, N, EMAIL, TEL, ORG and NOTE; text values escaped as
RFC 6350 § 3.4 says (backslash, comma, semicolon, line break), lines folded at 75 octets
without cutting a character in two, CRLF line ends.

Read: lines unfolded (a line starting with a space or a tab continues the previous one),
property names and parameters without regard to case, groups (``item1.EMAIL``) ignored,
2.1's QUOTED-PRINTABLE values decoded. Each card either becomes a whole :class:`Card` or is
reported with the line where it starts and a French reason; nothing is kept of a bad card.
"""

from __future__ import annotations

import quopri
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

FOLD_OCTETS = 75
# The model's field sizes (mail.models.Contact).
NAME_MAX = 120
PHONE_MAX = 30
ORGANISATION_MAX = 120
NOTE_MAX = 500
ADDRESS_MAX = 254

_CONTENT_LINE = re.compile(r"^(?:[A-Za-z0-9-]+\.)?(?P<name>[A-Za-z0-9-]+)(?P<params>(?:;[^:]*)?):")


@dataclass
class Card:
    """What the address book keeps of one vCard."""

    address: str
    name: str = ""
    family_name: str = ""
    given_name: str = ""
    phone: str = ""
    organisation: str = ""
    note: str = ""
    line: int = 0  # where the card starts in the file read (0: not read from a file)


@dataclass(frozen=True)
class Problem:
    """A card left out: the line it starts on, and why (in French)."""

    line: int
    reason: str


@dataclass
class Parsed:
    cards: list[Card] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class VCardError(ValueError):
    """The file as a whole cannot be read (not text, not a vCard); nothing is imported."""


# --- Writing ----------------------------------------------------------------------------------


def escape(value: str) -> str:
    """A text value as RFC 6350 § 3.4 writes it: ``\\``, ``,``, ``;`` and line breaks escaped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def fold(line: str) -> str:
    """``line`` cut into lines of at most 75 octets of UTF-8 (the continuations starting with
    a space, which counts), never inside a character; joined with CRLF."""
    pieces: list[str] = []
    current = ""
    size = 0
    limit = FOLD_OCTETS
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, FOLD_OCTETS - 1
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def _split_name(card: Card) -> tuple[str, str]:
    if card.family_name or card.given_name:
        return card.family_name, card.given_name
    given, _space, family = card.name.strip().rpartition(" ")
    return (family, given) if given else (card.name.strip(), "")


def serialize(cards: list[Card]) -> str:
    """The cards as one vCard 3.0 text (CRLF line ends, folded); encode it as UTF-8."""
    lines: list[str] = []
    for card in cards:
        family, given = _split_name(card)
        shown = card.name.strip() or " ".join(part for part in (given, family) if part)
        lines += ["BEGIN:VCARD", "VERSION:3.0"]
        lines.append("FN:" + escape(shown or card.address))
        lines.append(f"N:{escape(family)};{escape(given)};;;")
        lines.append("EMAIL;TYPE=INTERNET:" + escape(card.address))
        if card.phone:
            lines.append("TEL;TYPE=VOICE:" + escape(card.phone))
        if card.organisation:
            lines.append("ORG:" + escape(card.organisation))
        if card.note:
            lines.append("NOTE:" + escape(card.note))
        lines.append("END:VCARD")
    return "".join(fold(line) + "\r\n" for line in lines)


# --- Reading ----------------------------------------------------------------------------------


def unescape(value: str) -> str:
    """The reverse of :func:`escape` (``\\n`` or ``\\N`` a line break; an unknown escape
    keeps its character)."""
    out: list[str] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            following = value[index + 1]
            out.append("\n" if following in "nN" else following)
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _split_unescaped(value: str, separator: str) -> list[str]:
    """``value`` split on ``separator`` where it is not escaped (the parts still escaped)."""
    parts: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            current.append(value[index : index + 2])
            index += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def _unfold(text: str) -> list[tuple[int, str]]:
    """The logical lines of ``text`` with the number of the physical line each starts on.

    Pieces are gathered in lists and joined once: a file of thousands of folded lines costs
    linear time, not the square of its size."""
    logical: list[tuple[int, list[str]]] = []
    quoted_printable_open = False
    head = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw[:1] in (" ", "\t") and logical:
            logical[-1][1].append(raw[1:])
            piece = raw[1:]
        elif quoted_printable_open and logical:
            # 2.1's soft line break: the value goes on, the "=" dropped.
            pieces = logical[-1][1]
            pieces[-1] = pieces[-1][:-1]
            pieces.append(raw)
            piece = raw
        elif raw.strip():
            logical.append((number, [raw]))
            head = raw.split(":", 1)[0].upper() if ":" in raw else raw.upper()
            piece = raw
        else:
            continue
        quoted_printable_open = "QUOTED-PRINTABLE" in head and piece.endswith("=")
    return [(number, "".join(pieces)) for number, pieces in logical]


def _parameters(raw: str) -> dict[str, str]:
    """``;TYPE=work;ENCODING=QUOTED-PRINTABLE`` → upper-cased names and values; 2.1's bare
    ``;PREF`` becomes ``TYPE=PREF``."""
    found: dict[str, str] = {}
    for part in raw.split(";"):
        if not part:
            continue
        name, equals, value = part.partition("=")
        name = name.strip().upper()
        value = value.strip().strip('"').upper()
        if not equals:
            name, value = "TYPE", name
        found[name] = f"{found[name]},{value}" if name in found else value
    return found


def _decoded(value: str, params: dict[str, str]) -> str:
    if params.get("ENCODING") in ("QUOTED-PRINTABLE", "QP"):
        charset = params.get("CHARSET", "UTF-8").lower()
        try:
            return quopri.decodestring(value.encode("ascii", "replace")).decode(charset)
        except (LookupError, UnicodeDecodeError):
            return quopri.decodestring(value.encode("ascii", "replace")).decode("latin-1")
    return value


class _CardBuilder:
    def __init__(self, line: int) -> None:
        self.line = line
        self.name = ""
        self.family = ""
        self.given = ""
        self.emails: list[tuple[bool, str]] = []
        self.phones: list[tuple[bool, str]] = []
        self.organisation = ""
        self.note = ""

    def take(self, name: str, params: dict[str, str], value: str) -> None:
        value = _decoded(value, params)
        preferred = "PREF" in params.get("TYPE", "").split(",") or "PREF" in params
        if name == "FN":
            self.name = unescape(value).strip()
        elif name == "N":
            parts = [unescape(part).strip() for part in _split_unescaped(value, ";")]
            self.family = parts[0] if parts else ""
            self.given = parts[1] if len(parts) > 1 else ""
        elif name == "EMAIL":
            self.emails.append((preferred, unescape(value).strip()))
        elif name == "TEL":
            self.phones.append((preferred, unescape(value).strip().removeprefix("tel:")))
        elif name == "ORG":
            units = [unescape(part).strip() for part in _split_unescaped(value, ";")]
            self.organisation = ", ".join(unit for unit in units if unit)
        elif name == "NOTE":
            self.note = unescape(value).strip()

    def build(self) -> Card | Problem:
        def problem(reason: str) -> Problem:
            return Problem(self.line, reason)

        if not self.emails:
            return problem(_("la fiche n'a pas d'adresse électronique (EMAIL)."))
        # The preferred address, else the first.
        address = sorted(self.emails, key=lambda pair: not pair[0])[0][1]
        address = address.removeprefix("mailto:").strip()
        try:
            if len(address) > ADDRESS_MAX:
                raise ValidationError("too long")
            validate_email(address)
        except ValidationError:
            return problem(
                _("« %(address)s » n'est pas une adresse électronique valide.")
                % {"address": address[:80]}
            )
        name = self.name or " ".join(part for part in (self.given, self.family) if part)
        phone = sorted(self.phones, key=lambda pair: not pair[0])[0][1] if self.phones else ""
        for value, limit, label in (
            (name, NAME_MAX, _("le nom")),
            (phone, PHONE_MAX, _("le téléphone")),
            (self.organisation, ORGANISATION_MAX, _("l'organisme")),
            (self.note, NOTE_MAX, _("la note")),
        ):
            if len(value) > limit:
                return problem(
                    _("%(field)s dépasse %(limit)d caractères.") % {"field": label, "limit": limit}
                )
        if any(ord(char) < 32 for char in name + phone + self.organisation):
            return problem(_("la fiche contient des caractères de contrôle."))
        return Card(
            address=address,
            name=name,
            family_name=self.family,
            given_name=self.given,
            phone=phone,
            organisation=self.organisation,
            note=self.note,
            line=self.line,
        )


def decode(data: bytes) -> str:
    """The text of an uploaded file: UTF-8 (with or without its BOM), else Windows-1252 (old
    exports); a binary file is refused."""
    if b"\x00" in data:
        raise VCardError(_("Ce fichier n'est pas un fichier texte vCard (.vcf)."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse(text: str, *, max_cards: int) -> Parsed:
    """The cards of a vCard text and the problems of those left out, in the file's order.
    More than ``max_cards`` cards, or no card at all, refuses the whole file."""
    parsed = Parsed()
    builder: _CardBuilder | None = None
    seen = 0
    for number, line in _unfold(text):
        match = _CONTENT_LINE.match(line)
        if match is None:
            if builder is not None:
                parsed.problems.append(Problem(number, _("ligne illisible (il y manque « : »).")))
                builder = None  # the whole card is left out
            continue
        name = match["name"].upper()
        value = line[match.end() :]
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            if builder is not None:
                parsed.problems.append(
                    Problem(builder.line, _("la fiche n'est pas terminée par END:VCARD."))
                )
            seen += 1
            if seen > max_cards:
                raise VCardError(
                    _("Le fichier contient plus de %(count)d fiches : découpez-le.")
                    % {"count": max_cards}
                )
            builder = _CardBuilder(number)
            continue
        if builder is None:
            continue  # outside any card (or inside one already rejected)
        if name == "END" and value.strip().upper() == "VCARD":
            outcome = builder.build()
            if isinstance(outcome, Problem):
                parsed.problems.append(outcome)
            else:
                parsed.cards.append(outcome)
            builder = None
            continue
        builder.take(name, _parameters(match["params"]), value)
    if builder is not None:
        parsed.problems.append(
            Problem(builder.line, _("la fiche n'est pas terminée par END:VCARD."))
        )
    if not seen:
        raise VCardError(_("Aucune fiche vCard (BEGIN:VCARD) dans ce fichier."))
    return parsed
