"""The cached catalogue follows every change of what it shows (portal/catalogue.py).
Connected in ``PortalConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from convergence.core.models import Establishment
from convergence.portal import catalogue
from convergence.portal.models import AudienceRule, Favourite, Service


def service_or_rule_changed(sender: Any, **kwargs: Any) -> None:
    catalogue.catalogue_changed()


def favourite_changed(sender: Any, instance: Favourite, **kwargs: Any) -> None:
    catalogue.favourites_changed(instance.user_id)


def connect() -> None:
    # An establishment's name and city head the sections of the dashboard (portal/contexts.py).
    for model in (Service, AudienceRule, Establishment):
        name = model.__name__
        post_save.connect(service_or_rule_changed, sender=model, dispatch_uid=f"catalogue_s_{name}")
        post_delete.connect(
            service_or_rule_changed, sender=model, dispatch_uid=f"catalogue_d_{name}"
        )
    post_save.connect(favourite_changed, sender=Favourite, dispatch_uid="favourites_s")
    post_delete.connect(favourite_changed, sender=Favourite, dispatch_uid="favourites_d")
