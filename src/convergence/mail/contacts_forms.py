"""Forms of the address book: the directory's search, a contact, a group, a vCard import."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from convergence.mail.contacts import DIRECTORY_ROLES


def _no_controls(value: str) -> str:
    if any(ord(char) < 32 and char not in "\r\n\t" for char in value):
        raise forms.ValidationError(_("Ce champ contient des caractères interdits."))
    return value


class DirectorySearchForm(forms.Form):
    nom = forms.CharField(
        label=_("Nom ou prénom"),
        required=False,
        max_length=80,
        help_text=_("Le début du nom ou du prénom, sans se soucier des accents."),
    )
    etablissement = forms.CharField(
        label=_("Établissement"),
        required=False,
        max_length=80,
        help_text=_("Son nom, une partie de son nom ou son code UAI (par exemple 0250013D)."),
    )
    role = forms.ChoiceField(label=_("Rôle"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["role"])
        field.choices = [("", _("Tous les rôles")), *((r.value, r.label) for r in DIRECTORY_ROLES)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for key in ("nom", "etablissement"):
            if key in data:
                _no_controls(data[key] or "")
        name = (data.get("nom") or "").strip()
        if not name and not (data.get("etablissement") or "").strip() and not data.get("role"):
            raise forms.ValidationError(_("Indiquez au moins un critère de recherche."))
        if name and len(name.replace(" ", "")) < 2:
            self.add_error("nom", _("Saisissez au moins deux caractères."))
        return data


class ContactForm(forms.Form):
    nom = forms.CharField(label=_("Nom"), required=False, max_length=120)
    adresse = forms.EmailField(
        label=_("Adresse électronique"),
        max_length=254,
        error_messages={
            "required": _("Indiquez l'adresse électronique du contact."),
            "invalid": _("Saisissez une adresse électronique valide, par exemple nom@exemple.fr."),
        },
    )
    telephone = forms.CharField(label=_("Téléphone"), required=False, max_length=30)
    organisme = forms.CharField(label=_("Organisme"), required=False, max_length=120)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_nom(self) -> str:
        return _no_controls(self.cleaned_data.get("nom") or "")

    def clean_telephone(self) -> str:
        value = _no_controls(self.cleaned_data.get("telephone") or "").strip()
        if value and not all(char.isdigit() or char in " +.-()" for char in value):
            raise forms.ValidationError(
                _("Un numéro de téléphone ne contient que des chiffres, espaces, + . - ( ).")
            )
        return value

    def clean_organisme(self) -> str:
        return _no_controls(self.cleaned_data.get("organisme") or "")

    def clean_note(self) -> str:
        return _no_controls(self.cleaned_data.get("note") or "")


class GroupForm(forms.Form):
    nom = forms.CharField(
        label=_("Nom du groupe"),
        max_length=80,
        error_messages={"required": _("Donnez un nom au groupe.")},
    )

    def clean_nom(self) -> str:
        return _no_controls(self.cleaned_data.get("nom") or "")


class GroupMembersForm(forms.Form):
    membres = forms.TypedMultipleChoiceField(
        label=_("Membres du groupe"), required=False, coerce=int
    )

    def __init__(self, *args: Any, choices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["membres"]).choices = choices


class ImportForm(forms.Form):
    fichier = forms.FileField(
        label=_("Fichier vCard (.vcf)"),
        error_messages={"required": _("Choisissez un fichier .vcf à importer.")},
    )
    groupe = forms.TypedChoiceField(
        label=_("Ajouter aussi les contacts importés au groupe"),
        required=False,
        coerce=int,
        empty_value=None,
    )

    def __init__(self, *args: Any, groups: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["groupe"]).choices = [("", _("Aucun groupe")), *groups]
