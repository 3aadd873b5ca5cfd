"""Forms of the webmail: search, folders, app passwords."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from convergence.mail.mailbox import SearchQuery
from convergence.mail.models import Device

# Characters a folder name may not hold: the hierarchy separators, wildcards of LIST, and
# controls (IMAP would refuse them; CR/LF would end the command).
FORBIDDEN_IN_FOLDER = set('/\\.*%"') | {chr(c) for c in range(32)} | {"\x7f"}


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Mots recherchés"), required=False, max_length=200)
    de = forms.CharField(label=_("Expéditeur"), required=False, max_length=200)
    a = forms.CharField(label=_("Destinataire"), required=False, max_length=200)
    objet = forms.CharField(label=_("Objet"), required=False, max_length=200)
    corps = forms.CharField(label=_("Dans le texte du message"), required=False, max_length=200)
    depuis = forms.DateField(
        label=_("Reçu depuis le"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    avant = forms.DateField(
        label=_("Reçu avant le"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    pieces_jointes = forms.BooleanField(label=_("Avec pièces jointes"), required=False)
    dossier = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    page = forms.IntegerField(
        required=False, min_value=1, max_value=10_000, widget=forms.HiddenInput
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since: datetime.date | None = data.get("depuis")
        before: datetime.date | None = data.get("avant")
        if since and before and since >= before:
            raise forms.ValidationError(
                _("La date « reçu depuis le » doit précéder la date « reçu avant le ».")
            )
        asked = [data.get(key) for key in ("q", "de", "a", "objet", "corps", "depuis", "avant")]
        if not any(asked) and not data.get("pieces_jointes"):
            raise forms.ValidationError(_("Indiquez au moins un critère de recherche."))
        for key in ("q", "de", "a", "objet", "corps"):
            value = data.get(key) or ""
            if any(ord(ch) < 32 for ch in value):
                self.add_error(key, _("Ce champ contient des caractères interdits."))
        return data

    def query(self) -> SearchQuery:
        data = self.cleaned_data
        return SearchQuery(
            text=data.get("q") or "",
            sender=data.get("de") or "",
            recipient=data.get("a") or "",
            subject=data.get("objet") or "",
            body=data.get("corps") or "",
            since=data.get("depuis"),
            before=data.get("avant"),
            with_attachments=bool(data.get("pieces_jointes")),
        )


class FolderForm(forms.Form):
    operation = forms.ChoiceField(
        choices=[("create", "create"), ("rename", "rename"), ("delete", "delete")]
    )
    nom = forms.CharField(label=_("Nom du dossier"), required=False, max_length=80)
    dossier = forms.CharField(required=False, max_length=200)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name = " ".join((data.get("nom") or "").split())
        if data.get("operation") in ("create", "rename"):
            if not name:
                raise forms.ValidationError(_("Donnez un nom au dossier."))
            if set(name) & FORBIDDEN_IN_FOLDER:
                raise forms.ValidationError(
                    _("Un nom de dossier ne peut contenir ni / ni \\ ni . ni * ni % ni guillemets.")
                )
            if name.upper() == "INBOX":
                raise forms.ValidationError(_("Ce nom est réservé."))
        data["nom"] = name
        return data


class AppPasswordForm(forms.Form):
    label = forms.CharField(
        label=_("Nom de l'appareil"),
        max_length=60,
        help_text=_("Pour le reconnaître plus tard, par exemple « iPhone personnel »."),
    )
    device = forms.ChoiceField(label=_("Type d'appareil"), choices=Device.choices)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class ComposeForm(forms.Form):
    a = forms.CharField(label=_("À"), required=False, max_length=5000)
    cc = forms.CharField(label=_("Copie"), required=False, max_length=5000)
    cci = forms.CharField(
        label=_("Copie cachée"),
        required=False,
        max_length=5000,
        help_text=_("Les destinataires en copie cachée ne sont pas vus des autres."),
    )
    objet = forms.CharField(label=_("Objet"), required=False, max_length=250)
    texte = forms.CharField(
        label=_("Message"), required=False, max_length=100_000, widget=forms.Textarea
    )
    pieces = MultipleFileField(label=_("Pièces jointes"), required=False)
    # Where the message comes from (a reply, a forward, a draft being edited).
    en_reponse_a = forms.CharField(required=False, max_length=998, widget=forms.HiddenInput)
    references = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    brouillon_uid = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    origine_dossier = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    origine_uid = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    origine = forms.ChoiceField(
        required=False,
        choices=[
            ("", ""),
            ("reponse", "reponse"),
            ("transfert", "transfert"),
            ("transfert_piece", "transfert_piece"),
        ],
        widget=forms.HiddenInput,
    )


class SignatureForm(forms.Form):
    texte = forms.CharField(
        label=_("Signature"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Ajoutée sous chaque message que vous écrivez. 1 000 caractères au plus."),
    )
