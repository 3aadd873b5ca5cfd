"""One search for the whole portal: the registry every app contributes to, and the one rule
for matching what people type.

People type "mail" for *Messagerie*, "Vie scolaire" without its accents, "absences" where a
keyword says "absence". :func:`terms` reduces a text to comparable words (case, accents,
apostrophes and the plural's final s or x removed); :func:`matches` says whether every word
of the query starts a word of the text. An app registers a *provider* from its
``AppConfig.ready()`` (``register(Provider(...))``) for what only it can search: the portal
its services, the help app its guides when it lands. Pages need no provider of their own:
core's "Pages du portail" searches the site map (``core.sitemap``, with each page's
``keywords``), and its "Aide" the error codes. The header's search page
(``core.views.search``) asks every provider.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.utils.functional import Promise

MAX_QUERY_LENGTH = 100
# Short words ("le", "de", "d'") are left out of queries: "mot de passe" must not ask for a
# word starting with "de".
STOP_WORDS = frozenset({"a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le"})
STOP_WORDS |= frozenset({"les", "ma", "mes", "mon", "ou", "pour", "sur", "un", "une"})
_WORD = re.compile(r"[a-z0-9@]+")


def fold(text: str) -> str:
    """Lower case, accents removed: "Élève" → "eleve"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _singular(word: str) -> str:
    # French plurals, the common cases: "absences", "notes", "bureaux", "journaux".
    if len(word) > 4 and word.endswith("aux"):
        return word[:-3] + "al"
    if len(word) > 3 and word[-1] in "sx":
        return word[:-1]
    return word


def terms(text: str) -> list[str]:
    """The words of ``text`` as search compares them (folded, singular)."""
    return [_singular(word) for word in _WORD.findall(fold(text))]


def query_terms(query: str) -> list[str]:
    """The words a query asks for: as :func:`terms`, without the little words."""
    words = terms(query[:MAX_QUERY_LENGTH])
    kept = [word for word in words if word not in STOP_WORDS]
    return kept or words


def matches(query: list[str], text_terms: Iterable[str]) -> bool:
    """Every word of the query starts one word of the text ("messag" finds "messagerie")."""
    words = list(text_terms)
    return bool(query) and all(any(word.startswith(asked) for word in words) for asked in query)


@dataclass(frozen=True)
class Result:
    """One thing found: a title, where it is, and what it is."""

    title: str
    url: str
    description: str = ""
    icon: str = ""
    # A new window for a service outside the portal.
    external: bool = False


@dataclass(frozen=True)
class Provider:
    """What one app contributes to the search: ``find(request, query_terms)`` returns its
    results, best first. ``order`` places its group on the results page."""

    key: str
    title: str | Promise
    find: Callable[[HttpRequest, list[str]], list[Result]]
    order: int = 100


@dataclass(frozen=True)
class Group:
    provider: Provider
    results: list[Result] = field(default_factory=list)


_PROVIDERS: dict[str, Provider] = {}


def register(provider: Provider) -> None:
    """Add (or replace, by key) a provider."""
    _PROVIDERS[provider.key] = provider


def providers() -> list[Provider]:
    return sorted(_PROVIDERS.values(), key=lambda provider: (provider.order, provider.key))


def search(request: HttpRequest, query: str) -> list[Group]:
    """Every provider's results for ``query``, in the providers' order; groups without a
    result are left out."""
    asked = query_terms(query)
    if not asked:
        return []
    groups = [Group(provider, provider.find(request, asked)) for provider in providers()]
    return [group for group in groups if group.results]
