"""French names, in the administration, for the third-party apps the portal installs.

Django's documented way to rename an installed app is a subclass of its ``AppConfig``, named
in ``INSTALLED_APPS`` instead of the app ("Configuring applications: for application
users"); settings.py names these. Each subclass's ``ready()`` also names, in French, the
app's models and fields whose English names the library does not mark for translation.
Everything a library does mark (field names, choices, help texts, messages) is translated by
the project's catalog (``locale/fr/LC_MESSAGES/django.po``), not here.

Changing ``_meta.verbose_name`` or a field's ``verbose_name`` once the models are loaded is
invisible to migrations: they read ``Meta``'s original attributes and the arguments each
field was built with. Permission names follow these names (``core/receivers.py``).
"""

from __future__ import annotations

from typing import Any

import django_rq.apps
import django_tasks_db.apps
import oauth2_provider.apps
from allauth.account import apps as allauth_account_apps
from allauth.mfa import apps as allauth_mfa_apps
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def name_model(
    app_config: AppConfig,
    model_name: str,
    singular: Any,
    plural: Any,
    fields: dict[str, Any] | None = None,
) -> None:
    """Give ``model_name`` of ``app_config`` French names (itself and some fields)."""
    options = app_config.get_model(model_name)._meta
    options.verbose_name = singular
    options.verbose_name_plural = plural
    for field_name, label in (fields or {}).items():
        options.get_field(field_name).verbose_name = label  # type: ignore[union-attr]


class OAuthToolkitConfig(oauth2_provider.apps.DOTConfig):  # type: ignore[misc]
    """django-oauth-toolkit: the OAuth clients and the tokens the OIDC provider issues."""

    verbose_name = _("Clients et jetons OAuth")

    def ready(self) -> None:
        super().ready()
        identifier = {"id": _("identifiant")}
        name_model(self, "Application", _("client OAuth"), _("clients OAuth"), identifier)
        name_model(self, "AccessToken", _("jeton d'accès"), _("jetons d'accès"), identifier)
        name_model(
            self,
            "RefreshToken",
            _("jeton de renouvellement"),
            _("jetons de renouvellement"),
            identifier,
        )
        name_model(self, "IDToken", _("jeton d'identité"), _("jetons d'identité"), identifier)
        name_model(self, "Grant", _("code d'autorisation"), _("codes d'autorisation"), identifier)
        name_model(
            self,
            "DeviceGrant",
            _("autorisation d'appareil"),
            _("autorisations d'appareil"),
            identifier,
        )


class AllauthAccountConfig(allauth_account_apps.AccountConfig):  # type: ignore[misc]
    """allauth's e-mail addresses: a section of their own, not a second « Comptes »."""

    verbose_name = _("Adresses électroniques")


class AllauthMfaConfig(allauth_mfa_apps.MFAConfig):  # type: ignore[misc]
    """allauth.mfa: the second factors each account has enrolled."""

    verbose_name = _("Seconds facteurs enregistrés")

    def ready(self) -> None:
        super().ready()
        name_model(
            self,
            "Authenticator",
            _("second facteur"),
            _("seconds facteurs"),
            {
                "user": _("compte"),
                "type": _("type"),
                "data": _("données"),
                "created_at": _("ajouté le"),
                "last_used_at": _("dernière utilisation"),
            },
        )


class TasksDatabaseConfig(django_tasks_db.apps.TasksAppConfig):
    """django-tasks' database backend: the queued, running and finished tasks."""

    verbose_name = _("Tâches d'arrière-plan")  # type: ignore[assignment]

    def ready(self) -> None:
        super().ready()
        options = self.get_model("DBTaskResult")._meta
        options.get_field("id").verbose_name = _("identifiant")  # type: ignore[union-attr]


class RqConfig(django_rq.apps.DjangoRqAdminConfig):
    """django-rq: the Redis task queue (its English dashboard is left out of the
    administration, ``RQ_SHOW_ADMIN_LINK``; its one permission keeps a French name)."""

    verbose_name = _("File de tâches Redis")

    def ready(self) -> None:
        super().ready()
        name_model(
            self,
            "Dashboard",
            _("tableau de bord des files"),
            _("tableaux de bord des files"),
        )
