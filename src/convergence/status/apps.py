"""The status app: probes run by the worker, incidents and maintenance windows, the state
shown on every tile, on the sign-in page and the dashboard, and the public status page."""

import datetime as dt

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class StatusConfig(AppConfig):
    name = "convergence.status"
    label = "status"
    verbose_name = _("État des services")

    def ready(self) -> None:
        from convergence.core import notices, open_urls
        from convergence.core.blueprints import register_section
        from convergence.core.schedule import register_job
        from convergence.portal import service_states
        from convergence.status import (
            events,  # noqa: F401  (declares its audit event types)
            personal_data,
            receivers,
            site_map,
            tasks,
            tiles,
        )
        from convergence.status.blueprint_sections import (
            load_status_demo_history,
            load_status_peaks,
            load_status_probes,
        )

        # After the services (their probes) and the people (the demo's incident author).
        register_section("status_probes", load_status_probes, order=70)
        register_section("status_peaks", load_status_peaks, order=71)
        register_section("status_demo_history", load_status_demo_history, order=72)
        register_job(
            "status_probes",
            tasks.run_probes,
            every=dt.timedelta(seconds=settings.STATUS_ROUND_SECONDS),
        )
        register_job("status_purge", tasks.purge_old_results)
        service_states.register(tiles.tile_states)
        notices.register(tiles.notices, version=tiles.notices_version)
        site_map.register()
        receivers.connect()
        personal_data.register()
        # Whether a service is down must be readable when the portal is closed for
        # maintenance, and by someone who cannot get further than the sign-in page.
        # Reading only: the subscription form posts outside /statut/.
        open_urls.register(
            "/statut/",
            during=(open_urls.During.MAINTENANCE, open_urls.During.ENROLMENT),
        )
