"""The devices app: sessions and devices ("Mes appareils"), recent activity."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DevicesConfig(AppConfig):
    name = "convergence.devices"
    label = "devices"
    verbose_name = _("Appareils et sessions")

    def ready(self) -> None:
        from allauth.account.signals import user_logged_in
        from django.contrib.auth.signals import user_logged_in as session_signed_in

        from convergence.accounts.signals import account_deactivated, account_password_reset
        from convergence.core.widgets import Widget, register
        from convergence.devices import (
            events,  # noqa: F401  (declares its audit event types)
            personal_data,
            receivers,
            site_map,
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
        # The session's device and the new-device alert at sign-in; every session ended
        # with the account or its password.
        session_signed_in.connect(receivers.remember_device, dispatch_uid="remember_device")
        user_logged_in.connect(receivers.alert_new_device, dispatch_uid="new_device")
        account_deactivated.connect(
            receivers.end_sessions_of_inactive_account, dispatch_uid="end_sessions"
        )
        account_password_reset.connect(
            receivers.end_sessions_after_password_reset, dispatch_uid="end_sessions_on_reset"
        )
        personal_data.register()
        site_map.register()

        from django.core import checks

        from convergence.devices.sessions import check_session_engine

        checks.register(check_session_engine)

        from convergence.core.schedule import register_job
        from convergence.devices import tasks

        register_job("clear_expired_sessions", tasks.clear_expired_sessions)
