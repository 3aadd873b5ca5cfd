"""The portal app: the services catalogue, audiences, dashboard and favourites."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "convergence.portal"
    label = "portal"
    verbose_name = _("Portail")

    def ready(self) -> None:
        from convergence.core.blueprints import register_section
        from convergence.portal.blueprint_sections import load_services

        register_section("services", load_services, order=50)

        from convergence.portal import personal_data, receivers, search, site_map

        personal_data.register()
        site_map.register()
        search.register()
        receivers.connect()
