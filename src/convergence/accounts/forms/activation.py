"""Forms of activation and recovery contacts."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from convergence.accounts import codes, passwords
from convergence.accounts.models import OneTimeCode, User
from convergence.outbox import sms


class ActivationCodeForm(forms.Form):
    """Step 1: the login and code printed on the letter, and a pupil's birth date."""

    identifiant = forms.CharField(
        label=_("Identifiant"),
        max_length=64,
        help_text=_("Inscrit sur votre lettre d'activation, par exemple jdupont3."),
    )
    code = forms.CharField(
        label=_("Code d'activation"),
        max_length=40,
        help_text=_("12 lettres et chiffres, par exemple ABCD-EFGH-JKLM."),
    )
    date_naissance = forms.DateField(
        label=_("Date de naissance"),
        required=False,
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        help_text=_("Élèves uniquement. Format attendu : JJ/MM/AAAA."),
        error_messages={"invalid": _("Saisissez une date valide, par exemple 14/03/2012.")},
    )


class ActivationPasswordForm(forms.Form):
    """Step 2: the new password, under the account's policy, and never the code itself."""

    password1 = forms.CharField(label=_("Mot de passe"), strip=False, max_length=4096)
    password2 = forms.CharField(label=_("Confirmez le mot de passe"), strip=False, max_length=4096)

    def __init__(self, *args: Any, user: User, code: OneTimeCode, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.code = code

    def clean_password1(self) -> str:
        password = passwords.normalise(self.cleaned_data["password1"])
        if codes.matches(self.code, password):
            raise ValidationError(
                _(
                    "Le code d'activation ne peut pas servir de mot de passe : choisissez un "
                    "mot de passe à vous."
                ),
                code="password_is_code",
            )
        password_validation.validate_password(password, self.user)
        return password

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        first = cleaned.get("password1")
        second = cleaned.get("password2")
        if first and second is not None and passwords.normalise(second) != first:
            self.add_error("password2", _("Les deux mots de passe ne sont pas identiques."))
        return cleaned


class RecoveryEmailForm(forms.Form):
    email = forms.EmailField(
        label=_("Adresse électronique de secours"),
        max_length=254,
        help_text=_("Une adresse personnelle que vous consultez, par exemple prenom@exemple.fr."),
    )


class RecoveryPhoneForm(forms.Form):
    telephone = forms.CharField(
        label=_("Téléphone portable de secours"),
        max_length=20,
        help_text=_("Un numéro de portable français, par exemple 06 12 34 56 78."),
    )

    def clean_telephone(self) -> str:
        return sms.normalise_french_mobile(self.cleaned_data["telephone"])


class ContactConfirmationForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[("email", "email"), ("phone", "phone")], widget=forms.HiddenInput
    )
    code = forms.CharField(
        label=_("Code de confirmation"),
        max_length=12,
        help_text=_("Les 6 chiffres reçus par courriel ou par SMS."),
    )
