"""The support app's page in the site map (``core.sitemap``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from convergence.core import sitemap


def register() -> None:
    """Called from ``SupportConfig.ready``."""
    sitemap.register(
        sitemap.Section.HELP,
        _("Assistance : contacts et horaires"),
        "support:contacts",
        order=30,
        keywords=_("assistance, contact, aide, téléphone, horaires, référent, support, DSI"),
    )
    sitemap.register(
        sitemap.Section.HELP,
        _("Mes demandes d'assistance"),
        "support:tickets",
        signed_in=True,
        order=31,
        keywords=_("demande, ticket, assistance, problème, réponse"),
    )
    sitemap.register(
        sitemap.Section.HELP,
        _("Écrire à l'assistance sans compte"),
        "support:public_ticket",
        order=32,
        keywords=_("demande, assistance, connexion impossible, sans compte"),
    )
    sitemap.register(
        sitemap.Section.HELP,
        _("File des demandes d'assistance"),
        "support:queue",
        visible_to=_is_agent,
        order=33,
        keywords=_("file, demandes, tickets, référent, DSI"),
    )


def _is_agent(user: Any) -> bool:
    from convergence.support.ticket_views import is_agent

    return is_agent(user)
