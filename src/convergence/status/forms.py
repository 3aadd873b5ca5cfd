"""Forms of the status management pages: validation and French messages only; the views
pass what they clean to ``status.actions``, which own every write."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from convergence.portal.models import Service
from convergence.status.models import Impact, Stage

MAX_MESSAGE = 4000
MAX_TITLE = 160
# A window typed to the minute may start "now": a few minutes back are not "the past".
START_GRACE = dt.timedelta(minutes=5)
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"

OPENING_STAGES = [(value, label) for value, label in Stage.choices if value != Stage.RESOLVED]


def _published_services() -> Any:
    return Service.objects.published().order_by("position", "name")


class ServicesField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """The published services concerned, as checkboxes."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Services concernés"))
        kwargs.setdefault(
            "error_messages", {"required": _("Choisissez au moins un service concerné.")}
        )
        super().__init__(queryset=_published_services(), **kwargs)


def _message_field(label: Any, *, required: bool = True, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=MAX_MESSAGE,
        required=required,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class IncidentForm(forms.Form):
    """An incident declared by the DSI, published at once."""

    title = forms.CharField(
        label=_("Titre"),
        max_length=MAX_TITLE,
        help_text=_("Ce que vivent les personnes, par exemple « Messagerie : envoi impossible »."),
    )
    impact = forms.ChoiceField(label=_("Impact"), choices=Impact.choices)
    services = ServicesField()
    stage = forms.ChoiceField(label=_("Étape"), choices=OPENING_STAGES)
    message = _message_field(
        _("Message"), help_text=_("Affiché sur la page d'état des services et envoyé aux abonnés.")
    )


class PublishDraftForm(forms.Form):
    """A probe's draft, confirmed in the DSI's words."""

    title = forms.CharField(label=_("Titre"), max_length=MAX_TITLE)
    impact = forms.ChoiceField(label=_("Impact"), choices=Impact.choices)
    message = _message_field(_("Message"))


class DismissDraftForm(forms.Form):
    """A probe's draft closed without being published (a false alarm)."""

    message = _message_field(
        _("Motif (facultatif)"),
        required=False,
        help_text=_("Reste interne : le brouillon n'est jamais publié."),
    )

    def cleaned_message(self) -> str:
        text: str = self.cleaned_data.get("message", "").strip()
        return text or gettext("Fausse alerte : clos sans publication.")


class UpdateForm(forms.Form):
    """A new message on a published incident; « Résolu » closes it."""

    stage = forms.ChoiceField(label=_("Étape"), choices=Stage.choices)
    message = _message_field(_("Message"))


class PostmortemForm(forms.Form):
    postmortem = forms.CharField(
        label=_("Retour d'expérience"),
        help_text=_(
            "Facultatif : la cause, ce qui a été fait, ce qui évitera que cela recommence."
        ),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
    )


class LocalDateTimeField(forms.DateTimeField):
    """A ``datetime-local`` input, read in the académie's time zone (an aware datetime)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget",
            forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        )
        kwargs.setdefault("input_formats", [DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"])
        kwargs.setdefault(
            "error_messages", {"invalid": _("Saisissez une date et une heure valides.")}
        )
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dt.datetime | None:
        with timezone.override(timezone.get_default_timezone()):
            return super().to_python(value)


class MaintenanceForm(forms.Form):
    """A planned window; ``confirm_peak`` is the DSI's second thought over a busy period."""

    title = forms.CharField(label=_("Titre"), max_length=MAX_TITLE)
    message = _message_field(
        _("Message"),
        help_text=_("Ce qui sera fait et ce que les personnes ne pourront pas faire pendant."),
    )
    starts_at = LocalDateTimeField(label=_("Début"), help_text=_("Heure de Paris."))
    ends_at = LocalDateTimeField(label=_("Fin"), help_text=_("Heure de Paris."))
    services = ServicesField()
    confirm_peak = forms.BooleanField(
        label=_("Je maintiens cette date malgré la période chargée"), required=False
    )

    def __init__(self, *args: Any, now: dt.datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()

    def clean_starts_at(self) -> dt.datetime:
        starts_at: dt.datetime = self.cleaned_data["starts_at"]
        if starts_at < self.now - START_GRACE:
            raise forms.ValidationError(gettext("Le début de la maintenance est déjà passé."))
        return starts_at

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at is not None and ends_at is not None and ends_at <= starts_at:
            self.add_error("ends_at", gettext("La fin de la maintenance doit suivre son début."))
        return cleaned
