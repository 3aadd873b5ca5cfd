"""The pages of the portal in the site map (``core.sitemap``): the dashboard and the
"Gestion des comptes" hub."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.accounts.permissions import is_manager
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
