"""The pages of provisioning in the site map (``core.sitemap``): activation letters for
référents and the DSI, imports and the school year for the DSI."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.accounts.permissions import is_dsi, is_manager
from convergence.core import sitemap


def register() -> None:
    """Called from ``ProvisioningConfig.ready``."""
    management = sitemap.Section.MANAGEMENT
    sitemap.register(
        management,
        _("Lettres d'activation"),
        "provisioning:letters",
        visible_to=is_manager,
        order=20,
    )
    sitemap.register(
        management, _("Imports de comptes"), "provisioning:imports", visible_to=is_dsi, order=30
    )
    sitemap.register(
        management, _("Année scolaire"), "provisioning:school_year", visible_to=is_dsi, order=40
    )
