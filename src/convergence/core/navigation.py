"""The header menu's sections and which one a page belongs to: the one place that decides.

A page belongs to a section by its path (the portal's French paths are stable and name what
they hold: everything under ``/compte/`` is the person's account); each entry of the menu is
then marked current on all its pages, not only on its landing page. The answer depends on
nothing but the path, so the cached menu (``{% fragment "header-menu" %}``) varies by section
only.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class Section:
    """An entry of the header menu: its landing page and the paths of its pages."""

    name: str
    landing: str
    prefixes: tuple[str, ...] = ()

    def holds(self, path: str) -> bool:
        return path == self.landing or path.startswith(self.prefixes)


SECTIONS = (
    Section("dashboard", "/", ("/enfants/",)),
    # Mon compte: identity, password, second factors, devices and activity, "Mes données",
    # authorised services; and the management pages reached from it (/gestion/).
    Section("account", "/compte/", ("/compte/", "/gestion/")),
    Section("help", "/aide/erreurs/", ("/aide/",)),
    Section("administration", "/administration/", ("/administration/",)),
)


def current_section(path: str) -> Section | None:
    """The section holding ``path``, if any."""
    for section in SECTIONS:
        if section.holds(path):
            return section
    return None


def menu_context(request: HttpRequest) -> dict[str, str]:
    """``menu_section`` (the current entry's name, or "") and ``menu_current`` (the value of
    its ``aria-current``: "page" on the landing page itself, "true" on the section's other
    pages)."""
    path = getattr(request, "path_info", "") or ""
    section = current_section(path)
    if section is None:
        return {"menu_section": "", "menu_current": ""}
    return {
        "menu_section": section.name,
        "menu_current": "page" if path == section.landing else "true",
    }
