"""The support app: contacts per profile and department, their opening hours (public and
school holidays aware) and the dashboard widget "Besoin d'aide ?"."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    name = "convergence.support"
    label = "support"
    verbose_name = _("Assistance")

    def ready(self) -> None:
        from convergence.core import open_urls
        from convergence.core.blueprints import register_section
        from convergence.core.widgets import Widget, register
        from convergence.support import (
            events,  # noqa: F401  (declares its audit event types)
            receivers,
            site_map,
        )
        from convergence.support.blueprint_sections import (
            load_support_contacts,
            load_support_demo_tickets,
            load_support_teams,
        )
        from convergence.support.widgets import need_help

        # After departments (20); nothing else depends on contacts.
        register_section("support_contacts", load_support_contacts, order=60)
        # After contacts (their hours) and people (members, requesters); the demo's tickets
        # once teams route them.
        register_section("support_teams", load_support_teams, order=61)
        register_section("support_demo_tickets", load_support_demo_tickets, order=62)
        register(
            Widget(
                slug="need-help",
                template="support/_widget_need_help.html",
                context=need_help,
                order=90,
            )
        )
        site_map.register()
        # Whom to call stays readable when the portal is closed for maintenance, and for a
        # person stuck before enrolling a second factor.
        open_urls.register(
            "support:contacts",
            during=(open_urls.During.MAINTENANCE, open_urls.During.ENROLMENT),
        )
        receivers.connect()
