"""The DSI's form to suspend sending for one account or a whole establishment."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import User
from convergence.core.models import Establishment

ACCOUNT = "compte"
ESTABLISHMENT = "etablissement"


class SuspensionForm(forms.Form):
    cible = forms.ChoiceField(
        label=_("Suspendre les envois"),
        choices=[(ACCOUNT, _("d'un compte")), (ESTABLISHMENT, _("de tout un établissement"))],
    )
    identifiant = forms.CharField(
        label=_("Identifiant du compte ou code UAI de l'établissement"),
        help_text=_("Par exemple jdupont3, ou 0250007X"),
        max_length=150,
    )
    motif = forms.CharField(
        label=_("Motif"),
        help_text=_("Montré à la personne quand elle veut écrire un message"),
        max_length=300,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        identifier = (data.get("identifiant") or "").strip()
        if not identifier or not data.get("cible"):
            return data
        if data["cible"] == ACCOUNT:
            data["user"] = User.objects.filter(login=identifier.lower()).first()
            if data["user"] is None:
                self.add_error("identifiant", _("Aucun compte ne porte cet identifiant."))
        else:
            data["establishment"] = Establishment.objects.filter(uai=identifier.upper()).first()
            if data["establishment"] is None:
                self.add_error("identifiant", _("Aucun établissement n'a ce code UAI."))
        return data
