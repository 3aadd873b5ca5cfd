"""The pages of second factors in the site map (``core.sitemap``): the person's own, and the
DSI's four-eyes requests."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.accounts.permissions import is_dsi
from convergence.core import sitemap


def register() -> None:
    """Called from ``MfaConfig.ready``."""
    sitemap.register(
        sitemap.Section.ACCOUNT,
        _("Second facteur d'authentification"),
        "account_security",
        signed_in=True,
        order=40,
        keywords=_("codes changeants, clés d'accès, codes de secours, double authentification"),
    )
    sitemap.register(
        sitemap.Section.MANAGEMENT,
        _("Demandes de retrait d'un second facteur"),
        "second_factor:reset_requests",
        visible_to=is_dsi,
        order=50,
    )
