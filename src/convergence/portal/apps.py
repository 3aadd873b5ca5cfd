"""The portal app: the services catalogue, audiences, dashboard, favourites and
announcements."""

import datetime

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

        from convergence.core.schedule import register_job
        from convergence.portal import (
            events,  # noqa: F401  (declares its audit event types)
            tasks,
        )

        register_job(
            "publish_due_announcements",
            tasks.publish_due_announcements,
            every=datetime.timedelta(minutes=1),
        )
