"""Forms of the rentrée: confirming the closing of the open school year."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ..school_years import open_school_year


class CloseSchoolYearForm(forms.Form):
    """The year shown on the page, and an explicit confirmation (archiving cannot be undone)."""

    year = forms.CharField(widget=forms.HiddenInput, max_length=9)
    confirm = forms.BooleanField(
        label=_("Je confirme la clôture de l'année et l'archivage des comptes partis."),
        error_messages={"required": _("Cochez la case pour confirmer la clôture.")},
    )

    def clean_year(self) -> str:
        year: str = self.cleaned_data["year"]
        if year != open_school_year():
            raise forms.ValidationError(
                _(
                    "Cette année scolaire n'est plus l'année ouverte (déjà close ?). "
                    "Rechargez la page."
                )
            )
        return year
