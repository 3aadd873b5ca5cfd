"""The accounts app: academic accounts, roles, sign-in, passwords, throttling."""

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

        from . import receivers

        # The audit row of each sign-in records when it happened; updating the user row as
        # well would be a third write per sign-in (target: two, see docs/performance.md).
        auth_signals.user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        password_changed.connect(receivers.audit_password_changed, dispatch_uid="audit_pw")

        from convergence.core.blueprints import register_section
        from convergence.core.widgets import Widget, register

        from .blueprint_sections import load_people
        from .widgets import previous_sign_in

        register(
            Widget(
                slug="previous-sign-in",
                template="accounts/_widget_previous_sign_in.html",
                context=previous_sign_in,
                order=10,
            )
        )
        register_section("people", load_people, order=40)

        # Sessions ("Mes appareils"): new-device alert, sessions ended with the account.
        from allauth.account.signals import user_logged_in as allauth_logged_in

        from . import device_receivers
        from .signals import account_deactivated

        allauth_logged_in.connect(device_receivers.alert_new_device, dispatch_uid="new_device")
        account_deactivated.connect(
            device_receivers.end_sessions_of_inactive_account, dispatch_uid="end_sessions"
        )

        # Second factors (allauth.mfa): hashed recovery codes everywhere allauth wraps them
        # (mfa.install documents why it replaces a module attribute), audit and mail.
        from . import mfa, mfa_receivers

        mfa.install()
        mfa_receivers.connect()

        # Second-factor policy: forget a cached decision when a factor is added or removed.
        from . import mfa_policy

        mfa_policy.connect()
