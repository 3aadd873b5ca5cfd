"""The outbox app: one adapter per channel that reaches people (e-mail, SMS), with timeouts."""

import datetime

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutboxConfig(AppConfig):
    name = "convergence.outbox"
    label = "outbox"
    verbose_name = _("Envois")

    def ready(self) -> None:
        from convergence.core.schedule import register_job
        from convergence.outbox import personal_data, tasks

        personal_data.register()
        register_job(
            "deliver_pending_mail", tasks.deliver_pending_mail, every=datetime.timedelta(minutes=1)
        )
        register_job("purge_abandoned_mail", tasks.purge_abandoned_mail)
