"""Signal receivers of core: French permission names after every ``migrate``.

Django writes ``Permission.name`` once, in English ("Can add establishment"), when
``migrate`` creates a permission, and never changes it. The administration shows these names
(groups, people's rights), so after each app is migrated its permissions are renamed from
the models' current French names: « Peut ajouter un objet établissement ». A custom
permission (``Meta.permissions``) gets its declared name, through the French catalog for a
third-party app's English one. The rename runs for every app, ours and third-party, and is
idempotent: only names that differ are written.
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, router
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

# Django's default permissions and their French names (``%(name)s``: the model's name).
DEFAULT_PERMISSION_NAMES = {
    "add": gettext_noop("Peut ajouter un objet %(name)s"),
    "change": gettext_noop("Peut modifier un objet %(name)s"),
    "delete": gettext_noop("Peut supprimer un objet %(name)s"),
    "view": gettext_noop("Peut voir un objet %(name)s"),
}
NAME_MAX_LENGTH = 255


def french_permission_names(app_config: AppConfig) -> dict[tuple[str, str], str]:
    """(model name, codename) → French name, for every permission of ``app_config``'s
    models, in the default language (French)."""
    names: dict[tuple[str, str], str] = {}
    with translation.override(settings.LANGUAGE_CODE):
        for model in app_config.get_models():
            options = model._meta
            model_name = str(options.model_name)
            for action in options.default_permissions:
                template = gettext(DEFAULT_PERMISSION_NAMES[action])
                name = template % {"name": options.verbose_name}
                names[(model_name, f"{action}_{model_name}")] = name
            for codename, name in options.permissions:
                names[(model_name, str(codename))] = gettext(str(name))
    return {key: name[:NAME_MAX_LENGTH] for key, name in names.items()}


def rename_permissions(sender: AppConfig, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """Give the permissions of ``sender``'s models their French names (``post_migrate``,
    which runs Django's ``create_permissions`` first: auth is installed before core)."""
    from django.contrib.auth.models import Permission

    if not router.allow_migrate_model(using, Permission):
        return
    names = french_permission_names(sender)
    if not names:
        return
    stale = []
    permissions = (
        Permission.objects.using(using)
        .filter(content_type__app_label=sender.label)
        .select_related("content_type")
    )
    for permission in permissions:
        name = names.get((permission.content_type.model, permission.codename))
        if name is not None and permission.name != name:
            permission.name = name
            stale.append(permission)
    Permission.objects.using(using).bulk_update(stale, ["name"], batch_size=500)
