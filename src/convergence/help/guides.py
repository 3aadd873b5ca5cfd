"""The guides as one collection: the Markdown files of ``settings.HELP_GUIDES_DIR``
(``content/guides/*.md``, front matter in YAML) and the drafts published in the administration.

A published draft with the slug of a file *overrides* the file: the support can correct a guide
at once, without waiting for a deployment; withdrawing the draft brings the file back. A file
whose front matter is invalid is left out of the collection and reported by the system check
``help.W001`` and by ``manage.py index_guides`` — never by a 500.

The files are read again only when the folder changes (names, sizes, modification times), and
the drafts when one is published or withdrawn (``GUIDES_VERSION``, a version of
``core.fragments``); each process looks for such a change at most once a second
(``RESCAN_SECONDS``).
"""

from __future__ import annotations

import datetime
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from convergence.accounts.models import Assignment, Profile, profile_of_role
from convergence.core import errors, fragments

logger = logging.getLogger(__name__)

# The version every save of a draft replaces (``fragments.bump``).
GUIDES_VERSION = "help-guides"
RESCAN_SECONDS = 1.0
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
KNOWN_KEYS = frozenset(
    {
        "title",
        "summary",
        "profiles",
        "tags",
        "error_codes",
        "last_reviewed",
        "easy_read",
        "variant_of",
        "order",
    }
)
PROFILES = frozenset(profile.value for profile in Profile)


def profiles_of(user: Any) -> frozenset[str]:
    """The profiles of the signed-in person from this year's roles (a teacher who is also a
    parent has two); none for an anonymous visitor or a person without a role this year. The
    one place the help app decides whom a person is (troubleshooter, search)."""
    if user is None or not user.is_authenticated:
        return frozenset()
    roles = Assignment.objects.current().filter(user=user).values_list("role", flat=True)
    return frozenset(profile_of_role(role).value for role in roles)


class InvalidGuide(ValueError):
    """A guide file that cannot be read; ``problems`` says every reason, in French."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Guide:
    """One guide of the collection, whatever its source."""

    slug: str
    title: str
    summary: str
    body: str
    profiles: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    error_codes: tuple[str, ...] = ()
    last_reviewed: datetime.date | None = None
    easy_read: bool = False
    variant_of: str = ""
    order: int = 100
    # "file" or "draft"; ``version`` changes whenever the text may have (mtime, updated_at).
    source: str = "file"
    version: str = ""

    def for_profile(self, profile: str | None) -> bool:
        """Everyone's guide (no profile), or one written for ``profile``."""
        return not profile or not self.profiles or profile in self.profiles


@dataclass
class Collection:
    guides: dict[str, Guide] = field(default_factory=dict)
    # file name → problems, for the check and the command.
    problems: dict[str, list[str]] = field(default_factory=dict)
    signature: str = ""
    _ordered: list[Guide] | None = field(default=None, repr=False)

    def get(self, slug: str) -> Guide | None:
        return self.guides.get(slug)

    def ordered(self) -> list[Guide]:
        # A collection is not changed once built (a change builds a new one): sorted once.
        if self._ordered is None or len(self._ordered) != len(self.guides):
            self._ordered = sorted(
                self.guides.values(), key=lambda guide: (guide.order, guide.title)
            )
        return self._ordered

    def variants_of(self, slug: str) -> list[Guide]:
        return [guide for guide in self.ordered() if guide.variant_of == slug]

    def for_error_code(self, code: str) -> list[Guide]:
        return [guide for guide in self.ordered() if code in guide.error_codes]


def _strings(value: Any, name: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(f"« {name} » doit être une liste de textes.")
        return ()
    return tuple(item.strip() for item in value if item.strip())


def parse(text: str, *, slug: str, version: str = "") -> Guide:
    """The guide in ``text`` (front matter then Markdown), or :class:`InvalidGuide`."""
    problems: list[str] = []
    if not SLUG.match(slug):
        problems.append(
            f"Nom de fichier « {slug} » : lettres minuscules sans accent, chiffres et tirets."
        )
    match = FRONT_MATTER.match(text)
    if match is None:
        raise InvalidGuide([*problems, "En-tête absent : le fichier doit commencer par « --- »."])
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (ligne {mark.line + 2})" if mark is not None else ""
        raise InvalidGuide([*problems, f"En-tête YAML illisible{where}."]) from None
    if not isinstance(meta, dict):
        raise InvalidGuide([*problems, "L'en-tête doit être une suite de « clé: valeur »."])
    unknown = sorted(str(key) for key in meta if key not in KNOWN_KEYS)
    if unknown:
        problems.append(f"Clés inconnues : {', '.join(unknown)}.")
    title, summary = meta.get("title"), meta.get("summary")
    for name, value in (("title", title), ("summary", summary)):
        if not isinstance(value, str) or not value.strip():
            problems.append(f"« {name} » est obligatoire (un texte).")
    profiles = _strings(meta.get("profiles"), "profiles", problems)
    wrong = sorted(set(profiles) - PROFILES)
    if wrong:
        allowed = ", ".join(sorted(PROFILES))
        problems.append(f"Profils inconnus : {', '.join(wrong)} (possibles : {allowed}).")
    codes = tuple(
        code.upper() for code in _strings(meta.get("error_codes"), "error_codes", problems)
    )
    unknown_codes = [code for code in codes if errors.get(code) is None]
    if unknown_codes:
        problems.append(f"Codes d'erreur inconnus : {', '.join(unknown_codes)}.")
    reviewed = meta.get("last_reviewed")
    if isinstance(reviewed, datetime.datetime):
        reviewed = reviewed.date()
    if not isinstance(reviewed, datetime.date):
        problems.append("« last_reviewed » est obligatoire (une date AAAA-MM-JJ).")
        reviewed = None
    easy_read = meta.get("easy_read", False)
    if not isinstance(easy_read, bool):
        problems.append("« easy_read » vaut true ou false.")
    variant_of = meta.get("variant_of") or ""
    if not isinstance(variant_of, str) or (variant_of and not SLUG.match(variant_of)):
        problems.append("« variant_of » est le nom d'un autre guide (sans « .md »).")
    elif variant_of == slug:
        problems.append("« variant_of » ne peut pas nommer le guide lui-même.")
    order = meta.get("order", 100)
    if not isinstance(order, int) or isinstance(order, bool):
        problems.append("« order » est un nombre entier.")
    if problems:
        raise InvalidGuide(problems)
    return Guide(
        slug=slug,
        title=str(title).strip(),
        summary=str(summary).strip(),
        body=text[match.end() :],
        profiles=profiles,
        tags=_strings(meta.get("tags"), "tags", problems),
        error_codes=codes,
        last_reviewed=reviewed,
        easy_read=bool(easy_read),
        variant_of=str(variant_of),
        order=int(order),
        version=version,
    )


def _files(folder: Path) -> list[os.DirEntry[str]]:
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    return sorted(
        (entry for entry in entries if entry.name.endswith(".md") and entry.is_file()),
        key=lambda entry: entry.name,
    )


def _signature(entries: list[os.DirEntry[str]]) -> str:
    parts = []
    for entry in entries:
        stat = entry.stat()
        parts.append(f"{entry.name}:{stat.st_mtime_ns}:{stat.st_size}")
    return "|".join(parts)


def load_files(folder: Path) -> Collection:
    """Every valid guide file of ``folder``, and the problems of the others."""
    entries = _files(folder)
    collection = Collection(signature=_signature(entries))
    for entry in entries:
        slug = entry.name.removesuffix(".md")
        stat = entry.stat()
        try:
            text = Path(entry.path).read_text(encoding="utf-8")
            guide = parse(text, slug=slug, version=f"f{stat.st_mtime_ns}-{stat.st_size}")
        except UnicodeDecodeError:
            collection.problems[entry.name] = ["Le fichier n'est pas en UTF-8."]
        except InvalidGuide as error:
            collection.problems[entry.name] = error.problems
        else:
            collection.guides[slug] = guide
    for name, problems in collection.problems.items():
        logger.warning("Guide %s left out: %s", name, "; ".join(problems))
    return collection


def _published_drafts() -> list[Guide]:
    from convergence.help.models import Guide as Draft

    return [
        Guide(
            slug=draft.slug,
            title=draft.title,
            summary=draft.summary,
            body=draft.body,
            profiles=tuple(draft.profiles or ()),
            tags=tuple(draft.tags or ()),
            error_codes=tuple(code.upper() for code in draft.error_codes or ()),
            last_reviewed=draft.last_reviewed,
            easy_read=draft.easy_read,
            variant_of=draft.variant_of,
            order=draft.order,
            source="draft",
            version=f"d{draft.pk}-{draft.updated_at.timestamp()}",
        )
        for draft in Draft.objects.published()
    ]


class _Memo:
    """The collection this process built last, with what it was built from."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: tuple[str, str, str] | None = None
        self.checked = 0.0
        self.collection = Collection()


_memo = _Memo()


def collection() -> Collection:
    """The guides people may read: the files, overridden by the published drafts."""
    where = os.fspath(settings.HELP_GUIDES_DIR)
    now = time.monotonic()
    with _memo.lock:  # the path of every help page: no Path built before it is needed
        if _memo.key is not None and _memo.key[0] == where and now < _memo.checked:
            return _memo.collection
    folder = Path(where)
    entries = _files(folder)
    (drafts_version,) = fragments.versions(GUIDES_VERSION)
    memo_key = (where, _signature(entries), drafts_version)
    with _memo.lock:
        if _memo.key == memo_key:
            _memo.checked = now + RESCAN_SECONDS
            return _memo.collection
    built = load_files(folder)
    for draft in _published_drafts():
        built.guides[draft.slug] = draft
    built.signature = f"{built.signature}|{drafts_version}"
    with _memo.lock:
        _memo.key, _memo.collection = memo_key, built
        _memo.checked = now + RESCAN_SECONDS
    return built


def forget() -> None:
    """Read the folder and the drafts again at the next call (tests, after a publication)."""
    with _memo.lock:
        _memo.key = None
