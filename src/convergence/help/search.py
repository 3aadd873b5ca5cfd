"""The help search, behind one function: :func:`search` (``query``, optional profile) returns
the guides found, best first — title above summary above body — with highlighted excerpts.

Two backends over the same index (``IndexedGuide``, rebuilt by :func:`rebuild` from the
collection of ``help.guides``):

- SQLite (the default): the FTS5 table ``help_guide_fts`` (``unicode61 remove_diacritics 2``)
  holds every word reduced to its French stem by snowballstemmer, and the query is reduced
  the same way ("Élèves" and "eleve" both become ``elev``, "mots" ``mot``); ranked by bm25
  with the title weighing 10, the summary 4, the body 1;
- PostgreSQL: a GIN index over the weighted ``tsvector`` of the French configuration
  ``help_french`` (unaccent, then the French Snowball stemmer), ranked by ``ts_rank``.

Every word asked is a prefix (search as you type). The index follows the collection: a rebuild
when its signature (files' times and sizes, drafts' version) is not the one indexed, after a
publication, and by ``manage.py index_guides``.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import snowballstemmer  # type: ignore[import-untyped]  # no stubs published
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from convergence.core import search as core_search
from convergence.help import guides, rendering
from convergence.help.models import IndexedGuide

logger = logging.getLogger(__name__)

MAX_HITS = 20
EXCERPT_CHARS = 180
INDEX_KEY = "help:index-signature"
FTS_TABLE = "help_guide_fts"
PG_CONFIG = "help_french"
PG_DOCUMENT = (
    f"setweight(to_tsvector('{PG_CONFIG}', title), 'A') || "
    f"setweight(to_tsvector('{PG_CONFIG}', summary), 'B') || "
    f"setweight(to_tsvector('{PG_CONFIG}', body), 'C')"
)
STOP_WORDS = core_search.STOP_WORDS | frozenset(
    {"ai", "as", "avec", "c", "ce", "est", "il", "j", "je", "n", "ne", "pas", "qu", "que", "s"}
)
# Letters and digits (no underscore: nothing of a query reaches to_tsquery's syntax).
_WORD = re.compile(r"[^\W_]+")
_stemmer = snowballstemmer.stemmer("french")
_stem_lock = threading.Lock()


@dataclass(frozen=True)
class Hit:
    """One guide found: its title, summary and an excerpt of its body, the words asked marked
    (``<mark>``, the text escaped first)."""

    slug: str
    title: SafeString
    summary: SafeString
    excerpt: SafeString
    url: str
    rank: float


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The French stem of a folded word ("eleves" → "elev")."""
    with _stem_lock:  # a Snowball stemmer keeps state while it works
        return str(_stemmer.stemWord(word))


def stems(text: str, *, keep_stop_words: bool = True) -> list[str]:
    words = _WORD.findall(core_search.fold(text))
    if not keep_stop_words:
        kept = [word for word in words if word not in STOP_WORDS]
        words = kept or words
    return [stem(word) for word in words]


# --- the index ----------------------------------------------------------------------------


def ensure_fts_table() -> None:
    """SQLite's FTS5 table (also made by the migration; here for a database created without)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
            "slug UNINDEXED, profiles UNINDEXED, title, summary, body, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )


def _profiles(guide: guides.Guide) -> str:
    return f" {' '.join(guide.profiles)} " if guide.profiles else ""


def rebuild() -> int:
    """Index every guide of the collection again (one transaction); returns how many."""
    collection = guides.collection()
    rows = [
        IndexedGuide(
            slug=guide.slug,
            title=guide.title,
            summary=guide.summary,
            body=rendering.plain_text(guide),
            profiles=_profiles(guide),
        )
        for guide in collection.ordered()
    ]
    sqlite = connection.vendor == "sqlite"
    if sqlite:
        ensure_fts_table()
    try:
        with transaction.atomic():
            IndexedGuide.objects.all().delete()
            IndexedGuide.objects.bulk_create(rows)
            if sqlite:
                with connection.cursor() as cursor:
                    cursor.execute(f"DELETE FROM {FTS_TABLE}")  # noqa: S608 — constant name
                    cursor.executemany(
                        f"INSERT INTO {FTS_TABLE} (slug, profiles, title, summary, body) "  # noqa: S608
                        "VALUES (%s, %s, %s, %s, %s)",
                        [
                            (
                                row.slug,
                                row.profiles,
                                " ".join(stems(row.title)),
                                " ".join(stems(row.summary)),
                                " ".join(stems(row.body)),
                            )
                            for row in rows
                        ],
                    )
    except IntegrityError:
        # Another process rebuilt it at the same moment: its index is as good as this one.
        logger.info("Guide index rebuilt by another process meanwhile.")
    _remember(collection.signature)
    return len(rows)


def _signature_key(signature: str) -> str:
    return hashlib.sha256(signature.encode()).hexdigest()[:24]


def _remember(signature: str) -> None:
    try:
        cache.set(INDEX_KEY, _signature_key(signature), None)
    except Exception:  # the cache backend's own errors: the next search checks again
        logger.warning("Cache unreachable: guide index signature not kept.")


def ensure_index() -> None:
    """Rebuild the index when the collection changed since it was built (or never was)."""
    signature = _signature_key(guides.collection().signature)
    try:
        indexed = cache.get(INDEX_KEY)
    except Exception:
        indexed = None
    if indexed == signature:
        return
    rebuild()


# --- the query ----------------------------------------------------------------------------


def _query_words(query: str) -> list[str]:
    words = _WORD.findall(core_search.fold(query[: core_search.MAX_QUERY_LENGTH]))
    kept = [word for word in words if word not in STOP_WORDS]
    return kept or words


def _asked_profiles(profile: str | Iterable[str] | None) -> list[str]:
    """One profile, several (a teacher who is also a parent) or none (everyone's guides)."""
    if profile is None:
        return []
    asked = [profile] if isinstance(profile, str) else profile
    return sorted({value for value in asked if value})


def _profile_clause(profiles: list[str]) -> tuple[str, list[str]]:
    """Everyone's guides, and those written for one of ``profiles`` (none: every guide)."""
    if not profiles:
        return "", []
    written_for = " OR ".join("profiles LIKE %s" for _profile in profiles)
    return f" AND (profiles = '' OR {written_for})", [f"% {value} %" for value in profiles]


def _ranked_sqlite(words: list[str], profiles: list[str], limit: int) -> list[tuple[str, float]]:
    match = " ".join(f'"{stem(word)}"*' for word in words)
    clause, params = _profile_clause(profiles)
    ensure_fts_table()
    with connection.cursor() as cursor:
        cursor.execute(
            # Constants and placeholders only (S608).
            f"SELECT slug, bm25({FTS_TABLE}, 0, 0, 10.0, 4.0, 1.0) AS rank FROM {FTS_TABLE} "  # noqa: S608
            f"WHERE {FTS_TABLE} MATCH %s{clause} ORDER BY rank LIMIT %s",
            [match, *params, limit],
        )
        return [(slug, -float(rank)) for slug, rank in cursor.fetchall()]


def _ranked_postgresql(
    words: list[str], profiles: list[str], limit: int
) -> list[tuple[str, float]]:
    # Folded letters and digits only: nothing of the query reaches to_tsquery's syntax.
    asked = " & ".join(f"{word}:*" for word in words)
    clause, params = _profile_clause(profiles)
    with connection.cursor() as cursor:
        cursor.execute(
            # Constants and placeholders only (S608).
            f"SELECT slug, ts_rank({PG_DOCUMENT}, query) AS rank "  # noqa: S608
            f"FROM help_indexedguide, to_tsquery('{PG_CONFIG}', %s) AS query "
            f"WHERE ({PG_DOCUMENT}) @@ query{clause} ORDER BY rank DESC, slug LIMIT %s",
            [asked, *params, limit],
        )
        return [(slug, float(rank)) for slug, rank in cursor.fetchall()]


def highlight(text: str, asked: list[str]) -> SafeString:
    """``text`` escaped, each word whose stem starts with an asked stem inside ``<mark>``."""
    parts: list[str] = []
    last = 0
    for found in _WORD.finditer(text):
        word = found.group()
        folded = core_search.fold(word)
        if folded not in STOP_WORDS and any(stem(folded).startswith(a) for a in asked):
            parts.append(escape(text[last : found.start()]))
            parts.append(f"<mark>{escape(word)}</mark>")
            last = found.end()
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))  # noqa: S308 — every piece escaped above


def excerpt(body: str, asked: list[str], size: int = EXCERPT_CHARS) -> SafeString:
    """The part of ``body`` around the first word asked (its beginning when none is)."""
    text = " ".join(body.split())
    start = 0
    for count, found in enumerate(_WORD.finditer(text)):
        if count > 2000:
            break
        folded = core_search.fold(found.group())
        if folded not in STOP_WORDS and any(stem(folded).startswith(a) for a in asked):
            start = max(0, found.start() - size // 3)
            break
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < found.start() else start
    end = start + size
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    piece = text[start:end]
    prefix = "… " if start else ""
    suffix = " …" if end < len(text) else ""
    return mark_safe(f"{prefix}{highlight(piece, asked)}{suffix}")  # noqa: S308


def search(
    query: str, profile: str | Iterable[str] | None = None, *, limit: int = MAX_HITS
) -> list[Hit]:
    """The guides matching every word of ``query`` (each one a prefix, accents, case and
    plural forms forgiven), best first; with a profile (or several), only everyone's guides
    and those written for one of them."""
    words = _query_words(query)
    if not words:
        return []
    ensure_index()
    profiles = _asked_profiles(profile)
    if connection.vendor == "postgresql":
        ranked = _ranked_postgresql(words, profiles, limit)
    else:
        ranked = _ranked_sqlite(words, profiles, limit)
    if not ranked:
        return []
    rows = IndexedGuide.objects.in_bulk([slug for slug, _rank in ranked], field_name="slug")
    asked = [stem(word) for word in words]
    hits = []
    for slug, rank in ranked:
        row = rows.get(slug)
        if row is None:
            continue
        hits.append(
            Hit(
                slug=slug,
                title=highlight(row.title, asked),
                summary=highlight(row.summary, asked),
                excerpt=excerpt(row.body, asked),
                url=reverse("help:guide", args=[slug]),
                rank=rank,
            )
        )
    return hits


def find(request: HttpRequest, asked: list[str]) -> list[core_search.Result]:
    """The header search's "Guides d'aide" group (``core.search``): the guides for the
    signed-in person's profiles (``guides.profiles_of``), every guide for a visitor."""
    collection = guides.collection()
    profiles = guides.profiles_of(getattr(request, "user", None))
    results = []
    for hit in search(" ".join(asked), profiles):
        guide = collection.get(hit.slug)
        if guide is not None:
            results.append(
                core_search.Result(title=guide.title, url=hit.url, description=guide.summary)
            )
    return results


PROVIDER = core_search.Provider("guides", _("Guides d'aide"), find, order=80)
