"""Ticket forms: validation and French messages (the views only call the actions)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import Profile
from convergence.core.models import Department, Establishment
from convergence.support import attachments
from convergence.support.models import Category, Status

MAX_DESCRIPTION = 5000


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Up to ``SUPPORT_ATTACHMENT_MAX_FILES`` files, each checked by its content; every
    refusal is reported, by the file's name."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Pièces jointes"))
        kwargs.setdefault("help_text", lazy(attachments.limits_text, str)())
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs["accept"] = attachments.ACCEPT

    def clean(self, data: Any, initial: Any = None) -> list[attachments.CheckedFile]:
        uploads = [
            upload
            for upload in (data if isinstance(data, list | tuple) else [data])
            if isinstance(upload, UploadedFile)
        ]
        if len(uploads) > attachments.max_files():
            raise forms.ValidationError(
                gettext("Trop de fichiers : %(count)s au plus.")
                % {"count": attachments.max_files()}
            )
        accepted, refusals = [], []
        for upload in uploads:
            try:
                accepted.append(attachments.check(upload))
            except attachments.RefusedFile as refused:
                refusals.append(str(refused))
        if refusals:
            raise forms.ValidationError(refusals)
        return accepted


class TicketForm(forms.Form):
    category = forms.ChoiceField(label=_("Catégorie"), choices=Category.choices)
    description = forms.CharField(
        label=_("Décrivez le problème"),
        help_text=_("Ce que vous faisiez, ce qui s'est passé, le message affiché."),
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    establishment = forms.ModelChoiceField(
        label=_("Établissement concerné"),
        queryset=Establishment.objects.none(),
        required=False,
        empty_label=None,
    )
    attachments = AttachmentsField()

    def __init__(self, *args: Any, establishment_ids: frozenset[int] = frozenset(), **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["establishment"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Establishment.objects.filter(pk__in=establishment_ids).order_by("name")
        if len(establishment_ids) < 2:
            del self.fields["establishment"]


class PublicEmailForm(forms.Form):
    email = forms.EmailField(
        label=_("Votre adresse électronique"),
        help_text=_("Nous y envoyons un code à 6 chiffres, puis nos réponses."),
    )


class PublicTicketForm(forms.Form):
    code = forms.RegexField(
        label=_("Code reçu par courriel"),
        regex=r"^\s*\d{6}\s*$",
        help_text=_("6 chiffres."),
        error_messages={"invalid": _("Le code compte 6 chiffres.")},
    )
    profile = forms.ChoiceField(label=_("Vous êtes"), choices=Profile.choices)
    department = forms.ModelChoiceField(
        label=_("Département"),
        queryset=Department.objects.order_by("code"),
        required=False,
        empty_label=_("Je ne sais pas"),
    )
    category = forms.ChoiceField(label=_("Catégorie"), choices=Category.choices)
    description = forms.CharField(
        label=_("Décrivez le problème"),
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    attachments = AttachmentsField()


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Votre message"),
        max_length=MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    attachments = AttachmentsField()


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Nouvel état"), choices=Status.choices)


class RatingForm(forms.Form):
    satisfaction = forms.TypedChoiceField(
        label=_("Êtes-vous satisfait de la réponse ?"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
    )


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("État"), choices=[("", _("Tous")), *Status.choices], required=False
    )
    team = forms.IntegerField(required=False, widget=forms.HiddenInput)
    establishment = forms.IntegerField(required=False, widget=forms.HiddenInput)
