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
