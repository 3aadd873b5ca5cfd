"""The accounts app: academic accounts, roles, sign-in, passwords, throttling, activation,
recovery and one-time codes."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "convergence.accounts"
    label = "accounts"
    verbose_name = _("Comptes")

    def ready(self) -> None:
        from allauth.account.signals import password_changed
        from django.contrib.auth import signals as auth_signals
        from django.contrib.auth.models import update_last_login

        from convergence.accounts import (
            errors,  # noqa: F401  (declares its error codes)
            events,  # noqa: F401  (declares its audit event types)
            personal_data,
            receivers,
            site_map,
        )
        from convergence.accounts.blueprint_sections import load_people
        from convergence.core.blueprints import register_section

        # The audit row of each sign-in records when it happened; updating the user row as
        # well would be a third write per sign-in (target: two, see docs/performance.md).
        auth_signals.user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        password_changed.connect(receivers.audit_password_changed, dispatch_uid="audit_pw")
        register_section("people", load_people, order=40)
        personal_data.register()
        site_map.register()

        from convergence.core import open_urls

        # Sign-in (with its browser link) during maintenance; while a second factor must be
        # enrolled: sign-out, password change, activation and recovery contacts.
        open_urls.register("account_login", during=(open_urls.During.MAINTENANCE,))
        open_urls.register(
            "account_logout",
            "account_change_password",
            "accounts:password_strength",
            "accounts:recovery",
            "accounts:activation",
            during=(open_urls.During.ENROLMENT,),
        )

        from convergence.accounts import tasks
        from convergence.core.schedule import register_job

        register_job("purge_expired_codes", tasks.purge_expired_codes)
