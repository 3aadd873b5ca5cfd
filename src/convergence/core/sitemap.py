"""The site map (/plan-du-site/): the portal's pages grouped by section.

Each app names its own main pages from its ``AppConfig.ready()`` with :func:`register` (by URL
name, reversed when the map is shown), so that core names no other app's URLs. A page marked
``signed_in`` is listed only to a signed-in person; one with ``visible_to`` only to the people
it returns true for (a management page to those who may open it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from convergence.core import search


class Section(Enum):
    """The map's sections, in the order it shows them."""

    HOME = "home"
    SIGN_IN = "sign-in"
    ACCOUNT = "account"
    MANAGEMENT = "management"
    HELP = "help"
    ABOUT = "about"

    @property
    def title(self) -> str | Promise:
        return _TITLES[self]


_TITLES: dict[Section, str | Promise] = {
    Section.HOME: _("Accueil"),
    Section.SIGN_IN: _("Connexion et accès au compte"),
    Section.ACCOUNT: _("Mon compte"),
    Section.MANAGEMENT: _("Gestion des comptes"),
    Section.HELP: _("Aide"),
    Section.ABOUT: _("À propos du portail"),
}


@dataclass(frozen=True)
class Page:
    section: Section
    title: str | Promise
    url_name: str
    signed_in: bool
    visible_to: Callable[[Any], bool] | None
    order: int
    # Words people type to find it with the portal's search ("mot de passe", "RGPD").
    keywords: str | Promise = ""


@dataclass(frozen=True)
class Link:
    """A page as the map shows it."""

    title: str
    url: str


_PAGES: dict[str, Page] = {}


def register(
    section: Section,
    title: str | Promise,
    url_name: str,
    *,
    signed_in: bool = False,
    visible_to: Callable[[Any], bool] | None = None,
    order: int = 100,
    keywords: str | Promise = "",
) -> None:
    """List the page named ``url_name`` under ``section`` (re-registering a name replaces it).

    ``visible_to(user)`` is asked once per map for each distinct function, and only for a
    signed-in person: a page with it is a signed-in page.
    """
    _PAGES[url_name] = Page(
        section=section,
        title=title,
        url_name=url_name,
        signed_in=signed_in or visible_to is not None,
        visible_to=visible_to,
        order=order,
        keywords=keywords,
    )


def pages() -> list[Page]:
    return sorted(_PAGES.values(), key=lambda page: (page.order, str(page.title)))


def _open_to(user: Any) -> list[tuple[Page, str]]:
    """The pages ``user`` (anonymous or not) may follow, with their URLs; a URL name that no
    longer resolves is skipped."""
    signed_in = bool(getattr(user, "is_authenticated", False))
    decided: dict[Callable[[Any], bool], bool] = {}
    found = []
    for page in pages():
        if page.signed_in and not signed_in:
            continue
        if page.visible_to is not None:
            if page.visible_to not in decided:
                decided[page.visible_to] = bool(page.visible_to(user))
            if not decided[page.visible_to]:
                continue
        try:
            found.append((page, reverse(page.url_name)))
        except NoReverseMatch:
            continue
    return found


def sections_for(user: Any) -> list[tuple[Section, list[Link]]]:
    """The sections and links ``user`` may follow, empty sections left out."""
    found: dict[Section, list[Link]] = {section: [] for section in Section}
    for page, url in _open_to(user):
        found[page.section].append(Link(title=str(page.title), url=url))
    return [(section, links) for section, links in found.items() if links]


def find(request: HttpRequest, asked: list[str]) -> list[search.Result]:
    """The search's "Pages du portail" group (``core.search``): the pages of the map this
    person may follow whose title or keywords match."""
    user = getattr(request, "user", None)
    return [
        search.Result(title=str(page.title), url=url, description=str(page.section.title))
        for page, url in _open_to(user)
        if search.matches(asked, search.terms(f"{page.title} {page.keywords}"))
    ]
