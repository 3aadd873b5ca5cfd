"""The preferences page: the category-by-channel grid, quiet hours and the e-mail mode."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from convergence.core.notify import LOCKED, Category
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
