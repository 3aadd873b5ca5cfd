"""Forms of the portal: the search of the "Gestion des comptes" hub."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class AccountSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Nom, prénom ou identifiant"), max_length=100, required=False, strip=True
    )
