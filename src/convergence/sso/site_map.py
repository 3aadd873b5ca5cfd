"""The pages of single sign-on in the site map (``core.sitemap``): the services the person
authorised."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.core import sitemap


def register() -> None:
    """Called from ``SsoConfig.ready``."""
    sitemap.register(
        sitemap.Section.ACCOUNT,
        _("Services autorisés"),
        "sso:authorised_services",
        signed_in=True,
        order=70,
    )
