"""The provisioning app: SIECLE/STS imports, activation letters, rentrée and departures."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProvisioningConfig(AppConfig):
    name = "convergence.provisioning"
    label = "provisioning"
    verbose_name = _("Alimentation des comptes")

    def ready(self) -> None:
        from convergence.core.schedule import register_job
        from convergence.provisioning import (
            events,  # noqa: F401  (declares its audit event types)
            personal_data,
            site_map,
            tasks,
        )

        register_job("purge_departed_accounts", tasks.purge_departed_accounts)
        register_job("purge_stale_letter_files", tasks.purge_stale_letter_files)
        personal_data.register()
        site_map.register()
