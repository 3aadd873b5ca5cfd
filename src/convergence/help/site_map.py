"""The help pages in the site map (``core.sitemap``); the error codes are core's entry."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.core import sitemap


def register() -> None:
    """Called from ``HelpConfig.ready``."""
    sitemap.register(
        sitemap.Section.HELP,
        _("Guides d'aide"),
        "help:home",
        order=5,
        keywords=_("aide, guide, tutoriel, assistance"),
    )
    sitemap.register(
        sitemap.Section.HELP,
        _("Rechercher dans l'aide"),
        "help:search",
        order=6,
        keywords=_("aide, recherche"),
    )
