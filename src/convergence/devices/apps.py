"""The devices app: sessions and devices ("Mes appareils"), recent activity."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    name = "convergence.devices"
    label = "devices"
    verbose_name = _("Appareils et sessions")

    def ready(self) -> None:
        from allauth.account.signals import user_logged_in

        from convergence.accounts.signals import account_deactivated
        from convergence.core.widgets import Widget, register
        from convergence.devices import (
            events,  # noqa: F401  (declares its audit event types)
            personal_data,
            receivers,
        )
        from convergence.devices.widgets import previous_sign_in

        register(
            Widget(
                slug="previous-sign-in",
                template="devices/_widget_previous_sign_in.html",
                context=previous_sign_in,
                order=10,
            )
        )
        # The new-device alert at sign-in; every session ended with the account.
        user_logged_in.connect(receivers.alert_new_device, dispatch_uid="new_device")
        account_deactivated.connect(
            receivers.end_sessions_of_inactive_account, dispatch_uid="end_sessions"
        )
        personal_data.register()

        from convergence.core.schedule import register_job
        from convergence.devices import tasks

        register_job("clear_expired_sessions", tasks.clear_expired_sessions)
