"""The pages of devices in the site map (``core.sitemap``): "Mes appareils", recent activity."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.core import sitemap


def register() -> None:
    """Called from ``DevicesConfig.ready``."""
    account = sitemap.Section.ACCOUNT
    sitemap.register(
        account,
        _("Mes appareils"),
        "devices:list",
        signed_in=True,
        order=50,
        keywords=_("sessions, déconnecter, téléphone, ordinateur, navigateur"),
    )
    sitemap.register(account, _("Activité récente"), "devices:activity", signed_in=True, order=60)
