"""The preferences page: the category-by-channel grid, quiet hours and the e-mail mode; and
the push subscription a browser posts."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from convergence.core.notify import LOCKED, Category
from convergence.notifications import push
from convergence.notifications.models import Channel, EmailMode
from convergence.notifications.preferences import Schedule

HOURS = [(str(hour), f"{hour} h") for hour in range(24)]


def _hours() -> forms.Select:
    return forms.Select(attrs={"class": "fr-select"})


def field_name(category: str, channel: str) -> str:
    return f"pref_{category}_{channel}"


class PreferencesForm(forms.Form):
    calme_debut = forms.TypedChoiceField(
        label=_("Début des heures calmes"), choices=HOURS, coerce=int, widget=_hours()
    )
    calme_fin = forms.TypedChoiceField(
        label=_("Fin des heures calmes"), choices=HOURS, coerce=int, widget=_hours()
    )
    weekends = forms.BooleanField(label=_("Week-ends au calme"), required=False)
    courriels = forms.ChoiceField(
        label=_("Recevoir les courriels"), choices=EmailMode.choices, widget=forms.RadioSelect
    )
    heure_recapitulatif = forms.TypedChoiceField(
        label=_("Heure du récapitulatif"), choices=HOURS, coerce=int, widget=_hours()
    )

    def __init__(
        self,
        *args: Any,
        grid: dict[tuple[str, str], bool],
        schedule: Schedule,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault(
            "initial",
            {
                "calme_debut": schedule.quiet_from,
                "calme_fin": schedule.quiet_to,
                "weekends": schedule.weekends_quiet,
                "courriels": schedule.email_mode,
                "heure_recapitulatif": schedule.digest_hour,
                **{field_name(cat, chan): on for (cat, chan), on in grid.items()},
            },
        )
        super().__init__(*args, **kwargs)
        for category in Category.values:
            if category in LOCKED:
                continue
            for channel in Channel.values:
                self.fields[field_name(category, channel)] = forms.BooleanField(required=False)

    def rows(self) -> list[dict[str, Any]]:
        """One row per category for the template: its label, and per channel its field (a
        locked category has none: it is always on)."""
        found = []
        for category in Category:
            cells = []
            for channel in Channel:
                name = field_name(category.value, channel.value)
                cells.append(
                    {
                        "channel": channel.label,
                        "field": None if category.value in LOCKED else self[name],
                    }
                )
            found.append(
                {"label": category.label, "locked": category.value in LOCKED, "cells": cells}
            )
        return found

    def grid(self) -> dict[tuple[str, str], bool]:
        return {
            (category, channel): bool(self.cleaned_data.get(field_name(category, channel)))
            for category in Category.values
            if category not in LOCKED
            for channel in Channel.values
        }

    def schedule(self) -> Schedule:
        data = self.cleaned_data
        return Schedule(
            quiet_from=data["calme_debut"],
            quiet_to=data["calme_fin"],
            weekends_quiet=data["weekends"],
            email_mode=data["courriels"],
            digest_hour=data["heure_recapitulatif"],
        )


class SubscriptionForm(forms.Form):
    """A browser's push subscription, as ``PushSubscription.toJSON()`` gives it (``keys``
    flattened): an endpoint of a push service the portal accepts and valid keys."""

    endpoint = forms.URLField(max_length=1000, assume_scheme="https")
    p256dh = forms.CharField(max_length=100)
    auth = forms.CharField(max_length=40)

    def clean_endpoint(self) -> str:
        endpoint: str = self.cleaned_data["endpoint"]
        if not push.endpoint_allowed(endpoint):
            raise forms.ValidationError(
                _("Ce navigateur utilise un service de notification que le portail ne connaît pas.")
            )
        return endpoint

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            "p256dh" in data
            and "auth" in data
            and not push.keys_valid(data["p256dh"], data["auth"])
        ):
            raise forms.ValidationError(_("Les clés de chiffrement du navigateur sont invalides."))
        return data

    @classmethod
    def from_json(cls, document: object) -> SubscriptionForm:
        """The form bound to a decoded JSON document (anything else leaves it invalid)."""
        data: dict[str, Any] = {}
        if isinstance(document, dict):
            keys = document.get("keys")
            keys = keys if isinstance(keys, dict) else {}
            for name, value in (
                ("endpoint", document.get("endpoint")),
                ("p256dh", keys.get("p256dh")),
                ("auth", keys.get("auth")),
            ):
                if isinstance(value, str):
                    data[name] = value
        return cls(data)
