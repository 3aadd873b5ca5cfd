"""CSV imports of accounts: pupils with their guardians (SIECLE-like) and staff (STS-like).

Reading and checking a file, then planning what applying it would change in the database
(creations, updates, assignments of the school year, guardianships, departures). Nothing here
writes: ``actions/imports.py`` applies a plan. The columns are described once (``Column``):
the importer reads their names, the import page its table of columns and the sample files
(provisioning/templates/provisioning/imports/guide.html); docs/imports.md is the developers'
account of the rules.

A file is UTF-8 (with or without a byte-order mark), ``;``-separated, one header line naming
the columns (any order, extra columns ignored). A person is found again, whatever their name,
by their key in the source (``User.import_key``): ``siecle-eleve:<ID_ELEVE>``,
``siecle-resp:<RESPn_ID>``, ``sts:<ID_STS>``. Every check runs before the first write, so a
file with a single bad line changes nothing.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import re
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from convergence.accounts.logins import allocate_logins_bulk
from convergence.accounts.models import AccountState, Assignment, Guardianship, Role, User
from convergence.core.models import Establishment
from convergence.provisioning.models import ImportJob, ImportKind

SEPARATOR = ";"


@dataclass(frozen=True)
class Column:
    """A column of an import file as the import page documents it: whether a line must fill
    it, what it holds, and its value on each line of the sample file. The importer reads the
    names (``COLUMNS``); the page's table and the sample file are made from the rest."""

    name: str
    required: Any
    meaning: Any
    examples: tuple[str, str]


_YES = gettext_lazy("oui")
_NO = gettext_lazy("non")
_ID_RULE = gettext_lazy(
    "lettres, chiffres, « . », « _ » ou « - », 40 caractères au plus ; il retrouve la "
    "personne d'un import à l'autre, même si son nom change"
)

# SIECLE-like: one line per pupil, with up to two legal guardians (responsables).
SIECLE_COLUMN_SPECS: tuple[Column, ...] = (
    Column(
        "UAI",
        _YES,
        gettext_lazy("code UAI de l'établissement de l'élève, qui doit exister dans le portail"),
        ("0250013D", "0250013D"),
    ),
    Column(
        "ID_ELEVE",
        _YES,
        format_lazy("{} ({})", gettext_lazy("identifiant de l'élève dans la source"), _ID_RULE),
        ("9100001", "9100003"),
    ),
    Column(
        "NOM",
        _YES,
        gettext_lazy("nom de l'élève (150 caractères au plus)"),
        ("Vuillemin", "N'Diaye"),
    ),
    Column(
        "PRENOM",
        _YES,
        gettext_lazy("prénom de l'élève (150 caractères au plus)"),
        ("Chloé", "Aïcha"),
    ),
    Column(
        "DATE_NAISS",
        _YES,
        gettext_lazy("date de naissance, JJ/MM/AAAA (demandée à l'activation du compte)"),
        ("12/02/2013", "21/06/2012"),
    ),
    Column(
        "DIVISION",
        _NO,
        gettext_lazy("classe, par exemple « 4e B » (40 caractères au plus)"),
        ("4e A", "3e C"),
    ),
    Column(
        "RESP1_ID",
        _NO,
        gettext_lazy("identifiant du premier responsable légal dans la source"),
        ("8100001", "8100003"),
    ),
    Column(
        "RESP1_NOM",
        gettext_lazy("si RESP1_ID est rempli"),
        gettext_lazy("nom du premier responsable"),
        ("Vuillemin", "N'Diaye"),
    ),
    Column(
        "RESP1_PRENOM",
        gettext_lazy("si RESP1_ID est rempli"),
        gettext_lazy("prénom du premier responsable"),
        ("Pascal", "Moussa"),
    ),
    Column(
        "RESP1_COURRIEL",
        _NO,
        gettext_lazy("adresse électronique de contact du premier responsable"),
        ("pascal.vuillemin@exemple.fr", "moussa.ndiaye@exemple.fr"),
    ),
    Column(
        "RESP2_ID",
        _NO,
        gettext_lazy("identifiant du second responsable légal dans la source"),
        ("8100002", ""),
    ),
    Column(
        "RESP2_NOM",
        gettext_lazy("si RESP2_ID est rempli"),
        gettext_lazy("nom du second responsable"),
        ("Vuillemin", ""),
    ),
    Column(
        "RESP2_PRENOM",
        gettext_lazy("si RESP2_ID est rempli"),
        gettext_lazy("prénom du second responsable"),
        ("Aurélie", ""),
    ),
    Column(
        "RESP2_COURRIEL",
        _NO,
        gettext_lazy("adresse électronique de contact du second responsable"),
        ("aurelie.vuillemin@exemple.fr", ""),
    ),
)
SIECLE_COLUMNS: tuple[str, ...] = tuple(column.name for column in SIECLE_COLUMN_SPECS)
GUARDIAN_SLOTS = ("RESP1", "RESP2")

# STS-like: one line per person, establishment and function (a teacher in two
# establishments has two lines with the same ID_STS).
STS_COLUMN_SPECS: tuple[Column, ...] = (
    Column(
        "UAI",
        _YES,
        gettext_lazy("code UAI de l'établissement, qui doit exister dans le portail"),
        ("0250013D", "0251080N"),
    ),
    Column(
        "ID_STS",
        _YES,
        format_lazy("{} ({})", gettext_lazy("identifiant de la personne dans la source"), _ID_RULE),
        ("7100001", "7100001"),
    ),
    Column("NOM", _YES, gettext_lazy("nom (150 caractères au plus)"), ("Parrenin", "Parrenin")),
    Column("PRENOM", _YES, gettext_lazy("prénom (150 caractères au plus)"), ("Claire", "Claire")),
    Column(
        "DATE_NAISS",
        _NO,
        gettext_lazy("date de naissance, JJ/MM/AAAA"),
        ("14/09/1984", "14/09/1984"),
    ),
    Column(
        "FONCTION",
        _YES,
        gettext_lazy("code de la fonction, qui donne le rôle dans le portail (tableau ci-dessous)"),
        ("ENS", "ENS"),
    ),
    Column(
        "COURRIEL",
        _NO,
        gettext_lazy("adresse électronique, académique le plus souvent"),
        ("claire.parrenin@ac-besancon.fr", "claire.parrenin@ac-besancon.fr"),
    ),
)
STS_COLUMNS: tuple[str, ...] = tuple(column.name for column in STS_COLUMN_SPECS)

# STS function codes and the role each gives. Référent numérique and DSI are never imported:
# they are granted by hand, and an import never removes them.
FUNCTION_ROLES: dict[str, str] = {
    "ENS": Role.ENSEIGNANT,
    "DOC": Role.ENSEIGNANT,  # professeur documentaliste
    "CPE": Role.CPE,
    "EDU": Role.CPE,  # éducation, as STS names the CPE
    "DIR": Role.DIRECTION,
    "ADM": Role.ADMINISTRATIF,
    "AGT": Role.AGENT,
    "OUV": Role.AGENT,
    "LAB": Role.AGENT,
}
# What each function code stands for, for the import page.
FUNCTION_LABELS: dict[str, Any] = {
    "ENS": gettext_lazy("enseignant"),
    "DOC": gettext_lazy("professeur documentaliste"),
    "CPE": gettext_lazy("conseiller principal d'éducation"),
    "EDU": gettext_lazy("éducation"),
    "DIR": gettext_lazy("direction"),
    "ADM": gettext_lazy("administratif"),
    "AGT": gettext_lazy("agent"),
    "OUV": gettext_lazy("ouvrier"),
    "LAB": gettext_lazy("laboratoire"),
}

KEY_PUPIL = "siecle-eleve:"
KEY_GUARDIAN = "siecle-resp:"
KEY_STAFF = "sts:"

COLUMNS: dict[str, tuple[str, ...]] = {
    ImportKind.SIECLE: SIECLE_COLUMNS,
    ImportKind.STS: STS_COLUMNS,
}
COLUMN_SPECS: dict[str, tuple[Column, ...]] = {
    ImportKind.SIECLE: SIECLE_COLUMN_SPECS,
    ImportKind.STS: STS_COLUMN_SPECS,
}
KEY_PREFIXES: dict[str, tuple[str, ...]] = {
    ImportKind.SIECLE: (KEY_PUPIL, KEY_GUARDIAN),
    ImportKind.STS: (KEY_STAFF,),
}
# The roles an import of each kind owns in the establishments of its file: those it adds,
# updates and removes. Any other role of the same person is left alone.
KIND_ROLES: dict[str, frozenset[str]] = {
    ImportKind.SIECLE: frozenset({Role.ELEVE, Role.PARENT}),
    ImportKind.STS: frozenset(FUNCTION_ROLES.values()),
}

# Identifiers of the sources are digits in practice; letters, dot, dash and underscore are
# accepted too, 40 characters at most (the key column holds 80).
_SOURCE_ID = re.compile(r"[A-Za-z0-9._-]{1,40}")
_DATE_FR = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_DATE_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
NAME_MAX = 150
DIVISION_MAX = 40
EMAIL_MAX = 254
# Errors kept in a report (all are counted); samples of each change shown.
MAX_MESSAGES = 500
MAX_SAMPLES = 10


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, header, empty); the message is French."""


@dataclass(slots=True)
class Person:
    """One person of the file, as the file describes them."""

    key: str
    kind: str  # "eleve", "parent" or "personnel": how the report counts them
    first_name: str
    last_name: str
    birth_date: datetime.date | None
    email: str
    row: int  # index of the first data row naming them (0-based), for chunking
    line: int  # physical line of that row in the file, for messages
    login: str = ""

    def label(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class ParsedFile:
    """What a file says, checked line by line."""

    kind: str
    total_rows: int = 0
    persons: dict[str, Person] = field(default_factory=dict)
    # (person key, establishment id, role) → (division, row, line)
    assignments: dict[tuple[str, int, str], tuple[str, int, int]] = field(default_factory=dict)
    # (parent key, pupil key) → row
    guardianships: dict[tuple[str, str], int] = field(default_factory=dict)
    establishment_ids: set[int] = field(default_factory=set)
    # pupil key → line where it first appeared, valid or not (duplicate lines)
    seen: dict[str, int] = field(default_factory=dict)
    errors: list[tuple[int, str]] = field(default_factory=list)
    error_count: int = 0
    warnings: list[tuple[int, str]] = field(default_factory=list)
    warning_count: int = 0

    def error(self, line: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_MESSAGES:
            self.errors.append((line, message))

    def warning(self, line: int, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_MESSAGES:
            self.warnings.append((line, message))


ProgressCallback = Callable[[int], None]


def expected_columns(kind: str) -> tuple[str, ...]:
    return COLUMNS[kind]


def sample_csv(kind: str) -> str:
    """A two-line file of ``kind`` that the importer accepts, made from the documented
    columns: the header, then each column's examples (UTF-8 with a byte-order mark, so
    that a spreadsheet opens it with its accents)."""
    columns = COLUMN_SPECS[kind]
    output = io.StringIO()
    writer = csv.writer(output, delimiter=SEPARATOR, lineterminator="\r\n")
    writer.writerow(column.name for column in columns)
    for line in range(2):
        writer.writerow(column.examples[line] for column in columns)
    return "\ufeff" + output.getvalue()


def decode(data: bytes) -> str:
    """The text of a UTF-8 file, its byte-order mark removed; French error otherwise."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ImportFileError(
            _(
                "Le fichier n'est pas encodé en UTF-8 (premier caractère illisible ligne "
                "%(line)s). Enregistrez-le au format « CSV UTF-8 » puis déposez-le à nouveau. "
                "Rien n'a été enregistré."
            )
            % {"line": line}
        ) from None


def header_positions(header: list[str], kind: str) -> dict[str, int]:
    """Position of each expected column in the header; French error listing what is missing."""
    names = [cell.strip().upper() for cell in header]
    expected = expected_columns(kind)
    missing = [column for column in expected if column not in names]
    if missing:
        hint = ""
        if len(names) == 1 and ("," in names[0] or "\t" in names[0]):
            hint = " " + _("Le séparateur des colonnes doit être le point-virgule « ; ».")
        raise ImportFileError(
            _(
                "Colonnes manquantes : %(missing)s. La première ligne doit nommer les colonnes "
                "%(expected)s (séparées par « ; », dans n'importe quel ordre).%(hint)s "
                "Rien n'a été enregistré."
            )
            % {"missing": ", ".join(missing), "expected": SEPARATOR.join(expected), "hint": hint}
        )
    doubled = sorted({name for name in names if name in expected and names.count(name) > 1})
    if doubled:
        raise ImportFileError(
            _("Colonne en double : %(columns)s. Rien n'a été enregistré.")
            % {"columns": ", ".join(doubled)}
        )
    return {column: names.index(column) for column in expected}


def check_header(data: bytes, kind: str) -> None:
    """Check the encoding of the first line and its columns (what an upload form can check)."""
    first_line = data.split(b"\n", 1)[0]
    text = decode(first_line).strip("\r")
    if not text.strip():
        raise ImportFileError(_("Le fichier est vide. Rien n'a été enregistré."))
    header_positions(next(csv.reader([text], delimiter=SEPARATOR)), kind)


def parse_date(text: str, *, today: datetime.date | None = None) -> datetime.date | None:
    """``JJ/MM/AAAA`` (as SIECLE and STS export) or ``AAAA-MM-JJ``; None if invalid."""
    match = _DATE_FR.fullmatch(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
    else:
        match = _DATE_ISO.fullmatch(text)
        if not match:
            return None
        year, month, day = (int(part) for part in match.groups())
    try:
        value = datetime.date(year, month, day)
    except ValueError:
        return None
    if value.year < 1900 or value > (today or timezone.localdate()):
        return None
    return value


def _email_is_valid(value: str) -> bool:
    if len(value) > EMAIL_MAX:
        return False
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def parse(
    data: bytes,
    kind: str,
    *,
    establishments: dict[str, int] | None = None,
    progress: ProgressCallback | None = None,
    progress_every: int = 5000,
) -> ParsedFile:
    """Read and check a whole file. Raises ``ImportFileError`` for what stops reading
    (encoding, header); collects per-line errors ("Ligne 12 : …") otherwise."""
    text = decode(data)
    if establishments is None:
        establishments = dict(Establishment.objects.values_list("uai", "pk"))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=SEPARATOR)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(_("Le fichier est vide. Rien n'a été enregistré.")) from None
    except csv.Error as error:
        raise ImportFileError(
            _("Ligne 1 illisible (%(error)s). Rien n'a été enregistré.") % {"error": error}
        ) from None
    positions = header_positions(header, kind)
    parser = _SiecleLines if kind == ImportKind.SIECLE else _StsLines
    lines = parser(ParsedFile(kind=kind), positions, establishments)
    width = max(positions.values()) + 1
    parsed = lines.parsed
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            line = reader.line_num
            row = parsed.total_rows
            parsed.total_rows += 1
            if len(cells) < width:
                parsed.error(
                    line,
                    _("Ligne %(line)s : %(found)s colonnes au lieu d'au moins %(expected)s.")
                    % {"line": line, "found": len(cells), "expected": width},
                )
                continue
            lines.read(cells, row, line)
            if progress is not None and parsed.total_rows % progress_every == 0:
                progress(parsed.total_rows)
    except csv.Error as error:
        parsed.error(
            reader.line_num,
            _("Ligne %(line)s illisible (%(error)s).") % {"line": reader.line_num, "error": error},
        )
    if parsed.total_rows == 0 and not parsed.error_count:
        raise ImportFileError(
            _("Le fichier ne contient aucune ligne après l'en-tête. Rien n'a été enregistré.")
        )
    return parsed


class _Lines:
    """Checks shared by both kinds of file; one instance reads one file."""

    def __init__(
        self, parsed: ParsedFile, positions: dict[str, int], establishments: dict[str, int]
    ) -> None:
        self.parsed = parsed
        self.positions = positions
        self.establishments = establishments
        self.today = timezone.localdate()
        # Guardians come back on each of their children's lines: check an address once.
        self.valid_emails: dict[str, bool] = {}

    def read(self, cells: list[str], row: int, line: int) -> None:
        raise NotImplementedError

    def cell(self, cells: list[str], column: str) -> str:
        return cells[self.positions[column]].strip()

    def establishment(self, cells: list[str], line: int, problems: list[str]) -> int | None:
        uai = self.cell(cells, "UAI").upper()
        if not uai:
            problems.append(_("UAI manquant"))
            return None
        establishment_id = self.establishments.get(uai)
        if establishment_id is None:
            problems.append(_("UAI %(uai)s inconnu") % {"uai": uai})
        return establishment_id

    def source_id(self, value: str, column: str, problems: list[str]) -> bool:
        if not value:
            problems.append(_("%(column)s manquant") % {"column": column})
            return False
        if not _SOURCE_ID.fullmatch(value):
            problems.append(
                _("%(column)s « %(value)s » invalide (lettres, chiffres, . _ -, 40 au plus)")
                % {"column": column, "value": value[:50]}
            )
            return False
        return True

    def name(self, value: str, column: str, problems: list[str]) -> str:
        if not value:
            problems.append(_("%(column)s manquant") % {"column": column})
        elif len(value) > NAME_MAX:
            problems.append(
                _("%(column)s trop long (%(max)s caractères au plus)")
                % {"column": column, "max": NAME_MAX}
            )
        return " ".join(value.split())

    def email(self, value: str, column: str, problems: list[str]) -> str:
        value = value.lower()
        if not value:
            return value
        valid = self.valid_emails.get(value)
        if valid is None:
            valid = self.valid_emails[value] = _email_is_valid(value)
        if not valid:
            problems.append(
                _("adresse électronique « %(value)s » invalide (%(column)s)")
                % {"value": value[:80], "column": column}
            )
        return value

    def birth_date(
        self, value: str, problems: list[str], *, required: bool
    ) -> datetime.date | None:
        if not value:
            if required:
                problems.append(_("DATE_NAISS manquante"))
            return None
        parsed = parse_date(value, today=self.today)
        if parsed is None:
            problems.append(
                _("date de naissance « %(value)s » invalide (attendu JJ/MM/AAAA)")
                % {"value": value[:20]}
            )
        return parsed

    def report(self, line: int, problems: list[str]) -> None:
        for problem in problems:
            self.parsed.error(
                line, _("Ligne %(line)s : %(problem)s.") % {"line": line, "problem": problem}
            )

    def same_person(self, known: Person, other: Person) -> bool:
        return (
            known.first_name.casefold() == other.first_name.casefold()
            and known.last_name.casefold() == other.last_name.casefold()
            and known.email == other.email
            and known.birth_date == other.birth_date
        )


class _SiecleLines(_Lines):
    def read(self, cells: list[str], row: int, line: int) -> None:
        parsed = self.parsed
        problems: list[str] = []
        establishment_id = self.establishment(cells, line, problems)
        pupil_id = self.cell(cells, "ID_ELEVE")
        pupil: Person | None = None
        if self.source_id(pupil_id, "ID_ELEVE", problems):
            key = KEY_PUPIL + pupil_id
            # Noted even when the line has other problems: a later line with the same pupil
            # is then reported as a duplicate, not read as new.
            first_line = parsed.seen.setdefault(key, line)
            if first_line != line:
                problems.append(
                    _("élève %(id)s déjà présent ligne %(other)s")
                    % {"id": pupil_id, "other": first_line}
                )
            else:
                pupil = Person(
                    key=key,
                    kind=Role.ELEVE,
                    last_name=self.name(self.cell(cells, "NOM"), "NOM", problems),
                    first_name=self.name(self.cell(cells, "PRENOM"), "PRENOM", problems),
                    birth_date=self.birth_date(
                        self.cell(cells, "DATE_NAISS"), problems, required=True
                    ),
                    email="",
                    row=row,
                    line=line,
                )
        division = self.cell(cells, "DIVISION")
        if len(division) > DIVISION_MAX:
            problems.append(
                _("DIVISION trop longue (%(max)s caractères au plus)") % {"max": DIVISION_MAX}
            )
        guardians: list[Person] = []
        for slot in GUARDIAN_SLOTS:
            guardian = self.guardian(cells, slot, row, line, problems)
            if guardian is not None:
                if any(other.key == guardian.key for other in guardians):
                    problems.append(_("RESP1_ID et RESP2_ID identiques"))
                    continue
                guardians.append(guardian)
        if problems:
            self.report(line, problems)
            return
        assert pupil is not None and establishment_id is not None
        parsed.persons[pupil.key] = pupil
        parsed.establishment_ids.add(establishment_id)
        parsed.assignments[(pupil.key, establishment_id, Role.ELEVE)] = (division, row, line)
        for guardian in guardians:
            parsed.persons.setdefault(guardian.key, guardian)
            parsed.assignments.setdefault(
                (guardian.key, establishment_id, Role.PARENT), ("", row, line)
            )
            parsed.guardianships[(guardian.key, pupil.key)] = row

    def guardian(
        self, cells: list[str], slot: str, row: int, line: int, problems: list[str]
    ) -> Person | None:
        positions = self.positions
        source_id = cells[positions[f"{slot}_ID"]].strip()
        last_name, first_name, email = (
            cells[positions[f"{slot}_{part}"]].strip() for part in ("NOM", "PRENOM", "COURRIEL")
        )
        if not source_id:
            if last_name or first_name or email:
                problems.append(_("%(column)s manquant") % {"column": f"{slot}_ID"})
            return None
        if not self.source_id(source_id, f"{slot}_ID", problems):
            return None
        key = KEY_GUARDIAN + source_id
        known = self.parsed.persons.get(key)
        if (
            known is not None
            and known.last_name == last_name
            and known.first_name == first_name
            and known.email == email.lower()
        ):
            return known  # the same guardian as on a brother's or sister's line
        guardian = Person(
            key=key,
            kind=Role.PARENT,
            last_name=self.name(last_name, f"{slot}_NOM", problems),
            first_name=self.name(first_name, f"{slot}_PRENOM", problems),
            birth_date=None,
            email=self.email(email, f"{slot}_COURRIEL", problems),
            row=row,
            line=line,
        )
        if known is not None and not self.same_person(known, guardian):
            problems.append(
                _(
                    "responsable %(id)s décrit autrement ligne %(other)s (nom, prénom ou "
                    "courriel différent)"
                )
                % {"id": source_id, "other": known.line}
            )
        return guardian


class _StsLines(_Lines):
    def read(self, cells: list[str], row: int, line: int) -> None:
        parsed = self.parsed
        problems: list[str] = []
        establishment_id = self.establishment(cells, line, problems)
        staff_id = self.cell(cells, "ID_STS")
        valid_id = self.source_id(staff_id, "ID_STS", problems)
        person = Person(
            key=KEY_STAFF + staff_id,
            kind="personnel",
            last_name=self.name(self.cell(cells, "NOM"), "NOM", problems),
            first_name=self.name(self.cell(cells, "PRENOM"), "PRENOM", problems),
            birth_date=self.birth_date(self.cell(cells, "DATE_NAISS"), problems, required=False),
            email=self.email(self.cell(cells, "COURRIEL"), "COURRIEL", problems),
            row=row,
            line=line,
        )
        function = self.cell(cells, "FONCTION").upper()
        role = FUNCTION_ROLES.get(function)
        if role is None:
            problems.append(
                _("fonction « %(value)s » inconnue (attendu : %(codes)s)")
                % {"value": function[:20], "codes": ", ".join(FUNCTION_ROLES)}
            )
        known = parsed.persons.get(person.key) if valid_id else None
        if known is not None and not self.same_person(known, person):
            problems.append(
                _(
                    "personnel %(id)s décrit autrement ligne %(other)s (nom, prénom, date de "
                    "naissance ou courriel différent)"
                )
                % {"id": staff_id, "other": known.line}
            )
        if known is not None and establishment_id is not None and role is not None:
            previous = parsed.assignments.get((person.key, establishment_id, role))
            if previous is not None:
                problems.append(
                    _(
                        "personnel %(id)s déjà présent ligne %(other)s avec la même fonction "
                        "dans cet établissement"
                    )
                    % {"id": staff_id, "other": previous[2]}
                )
        if problems:
            self.report(line, problems)
            return
        assert establishment_id is not None and role is not None
        parsed.persons.setdefault(person.key, person)
        parsed.establishment_ids.add(establishment_id)
        parsed.assignments[(person.key, establishment_id, role)] = ("", row, line)


# --- Plan ---------------------------------------------------------------------------------


@dataclass
class Plan:
    """What applying a checked file changes, computed against the database in a few queries."""

    parsed: ParsedFile
    school_year: str
    creations: list[Person] = field(default_factory=list)
    # existing user pk → {field: new value}; with the row of the person, for chunking
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    update_rows: dict[int, int] = field(default_factory=dict)
    # import key → pk of existing accounts named by the file
    existing: dict[str, int] = field(default_factory=dict)
    reactivations: list[int] = field(default_factory=list)
    # (person key, establishment id, role, division, row)
    assignment_creations: list[tuple[str, int, str, str, int]] = field(default_factory=list)
    # (assignment pk, new division, row)
    assignment_updates: list[tuple[int, str, int]] = field(default_factory=list)
    assignment_removals: list[int] = field(default_factory=list)
    # (parent key, pupil key, row)
    guardianship_creations: list[tuple[str, str, int]] = field(default_factory=list)
    guardianship_removals: list[int] = field(default_factory=list)
    departures: list[int] = field(default_factory=list)
    to_archive: list[int] = field(default_factory=list)
    updated_people: set[int] = field(default_factory=set)
    samples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def sample(self, category: str, text: str) -> None:
        if len(self.samples[category]) < MAX_SAMPLES:
            self.samples[category].append(text)

    def counts(self) -> dict[str, Any]:
        creations: dict[str, int] = defaultdict(int)
        for person in self.creations:
            creations[str(person.kind)] += 1
        return {
            "rows": self.parsed.total_rows,
            "people": len(self.parsed.persons),
            "creations": sum(creations.values()),
            "creations_by_kind": dict(creations),
            "updates": len(self.updated_people),
            "reactivations": len(self.reactivations),
            "assignments_added": len(self.assignment_creations),
            "assignments_changed": len(self.assignment_updates),
            "assignments_removed": len(self.assignment_removals),
            "guardianships_added": len(self.guardianship_creations),
            "guardianships_removed": len(self.guardianship_removals),
            "departures": len(self.departures),
            "archived": len(self.to_archive),
        }

    def is_empty(self) -> bool:
        counts = self.counts()
        return not any(
            value
            for name, value in counts.items()
            if name not in {"rows", "people", "creations_by_kind"}
        )


def _scope(kind: str) -> Q:
    query = Q()
    for prefix in KEY_PREFIXES[kind]:
        query |= Q(import_key__startswith=prefix)
    return query


def unusable_password() -> str:
    """What ``make_password(None)`` stores, without its 40 ``secrets.choice`` calls per
    account (seconds over 200,000 accounts): ``!`` then random text."""
    return "!" + secrets.token_urlsafe(30)


def compute_plan(parsed: ParsedFile, *, school_year: str) -> Plan:
    """Compare the file with the database: a handful of queries, whatever the file's size."""
    plan = Plan(parsed=parsed, school_year=school_year)
    kind = parsed.kind
    scope = _scope(kind)
    columns = ("pk", "import_key", "first_name", "last_name", "birth_date", "email", "state")
    known: dict[str, tuple[Any, ...]] = {
        row[1]: row for row in User.objects.filter(scope).values_list(*columns)
    }
    key_of_pk = {row[0]: key for key, row in known.items()}
    # Every e-mail address in use, and whose it is: the column is unique.
    owners: dict[str, str] = {
        email: (import_key or f"pk:{pk}")
        for email, import_key, pk in User.objects.exclude(email="").values_list(
            "email", "import_key", "pk"
        )
    }

    new_people: list[Person] = []
    for person in parsed.persons.values():
        if person.email:
            owner = owners.setdefault(person.email, person.key)
            if owner != person.key:
                parsed.warning(
                    person.line,
                    _(
                        "Ligne %(line)s : l'adresse %(email)s est déjà celle d'un autre compte ; "
                        "elle n'est pas reprise pour %(name)s."
                    )
                    % {"line": person.line, "email": person.email, "name": person.label()},
                )
                person.email = ""
        row = known.get(person.key)
        if row is None:
            new_people.append(person)
            continue
        pk, _key, first_name, last_name, birth_date, email, state = row
        plan.existing[person.key] = pk
        changes: dict[str, Any] = {}
        if person.first_name != first_name:
            changes["first_name"] = person.first_name
        if person.last_name != last_name:
            changes["last_name"] = person.last_name
        # A field the file leaves empty is not erased (staff birth dates are optional).
        if person.birth_date is not None and person.birth_date != birth_date:
            changes["birth_date"] = person.birth_date
        if person.email and person.email != email:
            changes["email"] = person.email
        if changes:
            plan.updates[pk] = changes
            plan.update_rows[pk] = person.row
            plan.updated_people.add(pk)
            plan.sample(
                "updates",
                _("%(name)s : %(changes)s")
                % {
                    "name": person.label(),
                    "changes": ", ".join(
                        f"{_FIELD_LABELS[name]} « {_shown(old)} » → « {_shown(value)} »"
                        for name, value in changes.items()
                        for old in [row[columns.index(name)]]
                    ),
                },
            )
        if state == AccountState.ARCHIVED:
            plan.reactivations.append(pk)
            plan.updated_people.add(pk)
            plan.sample(
                "updates", _("%(name)s : de retour, compte réactivé") % {"name": person.label()}
            )

    if new_people:
        taken = set(User.objects.values_list("login", flat=True))
        logins = allocate_logins_bulk(((p.first_name, p.last_name) for p in new_people), taken)
        for person, login in zip(new_people, logins, strict=True):
            person.login = login
            plan.creations.append(person)
            if len(plan.samples["creations"]) < MAX_SAMPLES:
                plan.sample(
                    "creations",
                    _("%(name)s (%(kind)s) → identifiant %(login)s")
                    % {"name": person.label(), "kind": _KIND_LABELS[person.kind], "login": login},
                )

    # Assignments of the school year held by the people this kind of import manages.
    held: dict[tuple[int, int, str], tuple[int, str]] = {}
    held_count: dict[int, int] = defaultdict(int)
    for assignment_pk, user_pk, establishment_id, role, division in (
        Assignment.objects.filter(school_year=school_year)
        .filter(user__in=User.objects.filter(scope).values("pk"))
        .values_list("pk", "user_id", "establishment_id", "role", "division")
    ):
        held[(user_pk, establishment_id, role)] = (assignment_pk, division)
        held_count[user_pk] += 1

    for (key, establishment_id, role), (division, first_row, _line) in parsed.assignments.items():
        pk = plan.existing.get(key)
        current = held.get((pk, establishment_id, role)) if pk is not None else None
        if current is None:
            plan.assignment_creations.append((key, establishment_id, role, division, first_row))
            if pk is not None:
                plan.updated_people.add(pk)
        elif current[1] != division:
            plan.assignment_updates.append((current[0], division, first_row))
            plan.updated_people.add(pk)  # type: ignore[arg-type]
            person = parsed.persons[key]
            plan.sample(
                "updates",
                _("%(name)s : classe « %(old)s » → « %(new)s »")
                % {"name": person.label(), "old": current[1], "new": division},
            )

    owned_roles = KIND_ROLES[kind]
    removed_count: dict[int, int] = defaultdict(int)
    for (user_pk, establishment_id, role), (assignment_pk, _division) in held.items():
        if establishment_id not in parsed.establishment_ids or role not in owned_roles:
            continue
        if (key_of_pk[user_pk], establishment_id, role) in parsed.assignments:
            continue
        plan.assignment_removals.append(assignment_pk)
        removed_count[user_pk] += 1
    for user_pk, removed in removed_count.items():
        key = key_of_pk[user_pk]
        if key in parsed.persons:
            plan.updated_people.add(user_pk)
            continue
        plan.departures.append(user_pk)
        row = known[key]
        archived = removed == held_count[user_pk] and row[6] != AccountState.ARCHIVED
        if archived:
            plan.to_archive.append(user_pk)
        plan.sample(
            "departures",
            _("%(name)s (%(key)s)%(archived)s")
            % {
                "name": f"{row[2]} {row[3]}",
                "key": key,
                "archived": _(" : compte archivé") if archived else "",
            },
        )

    if kind == ImportKind.SIECLE:
        _plan_guardianships(plan, key_of_pk)
    plan.samples = dict(plan.samples)
    return plan


def _plan_guardianships(plan: Plan, key_of_pk: dict[int, str]) -> None:
    parsed = plan.parsed
    pupil_pks = [pk for key, pk in plan.existing.items() if key.startswith(KEY_PUPIL)]
    existing: dict[tuple[str, str], int] = {}
    for chunk in _chunks(pupil_pks, 5000):
        for guardianship_pk, parent_pk, pupil_pk in Guardianship.objects.filter(
            pupil__in=chunk
        ).values_list("pk", "parent_id", "pupil_id"):
            parent_key = key_of_pk.get(parent_pk)
            if parent_key is None:
                continue  # a guardian entered by hand: the import leaves them alone
            existing[(parent_key, key_of_pk[pupil_pk])] = guardianship_pk
    for (parent_key, pupil_key), row in parsed.guardianships.items():
        if (parent_key, pupil_key) not in existing:
            plan.guardianship_creations.append((parent_key, pupil_key, row))
    for pair, guardianship_pk in existing.items():
        if pair not in parsed.guardianships and pair[1] in parsed.persons:
            plan.guardianship_removals.append(guardianship_pk)


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _shown(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    return str(value or "")


_FIELD_LABELS = {
    "first_name": gettext_lazy("prénom"),
    "last_name": gettext_lazy("nom"),
    "birth_date": gettext_lazy("date de naissance"),
    "email": gettext_lazy("courriel"),
}
_KIND_LABELS = {
    Role.ELEVE: gettext_lazy("élève"),
    Role.PARENT: gettext_lazy("responsable"),
    "personnel": gettext_lazy("personnel"),
}


# --- Report -------------------------------------------------------------------------------

COUNT_LABELS: tuple[tuple[str, Any], ...] = (
    ("rows", gettext_lazy("lignes lues")),
    ("people", gettext_lazy("personnes dans le fichier")),
    ("creations", gettext_lazy("comptes créés")),
    ("updates", gettext_lazy("comptes modifiés")),
    ("reactivations", gettext_lazy("comptes réactivés (retour)")),
    ("assignments_added", gettext_lazy("affectations ajoutées")),
    ("assignments_changed", gettext_lazy("changements de classe")),
    ("assignments_removed", gettext_lazy("affectations retirées")),
    ("guardianships_added", gettext_lazy("rattachements responsable-élève ajoutés")),
    ("guardianships_removed", gettext_lazy("rattachements responsable-élève retirés")),
    ("departures", gettext_lazy("départs")),
    ("archived", gettext_lazy("comptes archivés")),
)
SAMPLE_LABELS: tuple[tuple[str, Any], ...] = (
    ("creations", gettext_lazy("Exemples de créations")),
    ("updates", gettext_lazy("Exemples de modifications")),
    ("departures", gettext_lazy("Exemples de départs")),
)


def count_rows(report: dict[str, Any]) -> list[tuple[str, int]]:
    """The report's counts as (French label, value), in reading order."""
    counts = report.get("counts") or {}
    return [(str(label), int(counts.get(name, 0))) for name, label in COUNT_LABELS]


def sample_groups(report: dict[str, Any]) -> list[tuple[str, list[str]]]:
    samples = report.get("samples") or {}
    return [(str(label), samples[name]) for name, label in SAMPLE_LABELS if samples.get(name)]


def report_lines(job: ImportJob) -> list[str]:
    """The report of a job as plain French text (the management command prints it)."""
    report = job.report or {}
    title = _("Simulation") if job.dry_run else _("Import")
    lines = [f"{title} {job.get_kind_display()} — {job.file_name} — {job.get_state_display()}"]
    if report.get("fatal"):
        lines.append(str(report["fatal"]))
    if report.get("counts"):
        lines += [f"  {label} : {value}" for label, value in count_rows(report)]
    for label, samples in sample_groups(report):
        lines.append(f"{label} :")
        lines += [f"  - {sample}" for sample in samples]
    if report.get("error_count") and report.get("errors"):
        count = report["error_count"]
        lines.append(
            ngettext("%(count)s erreur :", "%(count)s erreurs :", count) % {"count": count}
        )
        lines += [f"  {error}" for error in report["errors"]]
    if report.get("warning_count"):
        count = report["warning_count"]
        lines.append(
            ngettext("%(count)s avertissement :", "%(count)s avertissements :", count)
            % {"count": count}
        )
        lines += [f"  {warning}" for warning in report.get("warnings", [])]
    return lines
