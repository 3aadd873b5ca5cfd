"""The status app's pages in the site map (``core.sitemap``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.accounts.permissions import is_dsi
from convergence.core import sitemap


def register() -> None:
    """Called from ``StatusConfig.ready``."""
    sitemap.register(
        sitemap.Section.HELP,
        _("État des services"),
        "status:page",
        order=40,
        keywords=_("état, panne, incident, maintenance, disponibilité, en service"),
    )
    sitemap.register(
        sitemap.Section.MANAGEMENT,
        _("Gérer les incidents et les maintenances"),
        "status:manage",
        visible_to=is_dsi,
        order=41,
        keywords=_("incident, maintenance, sonde, DSI"),
    )
