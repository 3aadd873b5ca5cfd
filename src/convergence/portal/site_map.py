"""The pages of the portal in the site map (``core.sitemap``): the dashboard, the
announcements, the "Gestion des comptes" hub and the authors' announcements."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.accounts.permissions import is_manager, may_publish_announcements
from convergence.core import sitemap


def register() -> None:
    """Called from ``PortalConfig.ready``."""
    sitemap.register(
        sitemap.Section.HOME, _("Tableau de bord"), "portal:dashboard", signed_in=True, order=10
    )
    sitemap.register(
        sitemap.Section.MANAGEMENT,
        _("Gestion des comptes"),
        "portal:manage_accounts",
        visible_to=is_manager,
        order=10,
    )
    sitemap.register(
        sitemap.Section.HOME,
        _("Annonces"),
        "portal:announcements",
        signed_in=True,
        order=15,
        keywords=_("annonce, information, direction, rectorat, j'ai lu"),
    )
    sitemap.register(
        sitemap.Section.MANAGEMENT,
        _("Gérer les annonces"),
        "portal:announcements_manage",
        visible_to=may_publish_announcements,
        order=15,
        keywords=_("annonce, publier, écrire, accusé de lecture"),
    )
