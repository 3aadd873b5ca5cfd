"""Forms of recovery: forgotten password (request, SMS code, new password), forgotten login."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from convergence.accounts.actions.recovery import Channel
from convergence.accounts.models import User
from convergence.accounts.passwords import MAX_LENGTH


class PasswordResetRequestForm(forms.Form):
    """Who (login or e-mail address) and by which channel the person wants to be reached."""

    identifier = forms.CharField(
        label=_("Identifiant ou adresse électronique"),
        max_length=254,
        error_messages={
            "required": _("Saisissez votre identifiant ou votre adresse électronique.")
        },
    )
    channel = forms.ChoiceField(
        label=_("Recevoir"),
        choices=[
            (Channel.EMAIL.value, _("un lien par courriel")),
            (Channel.SMS.value, _("un code par SMS")),
        ],
        initial=Channel.EMAIL.value,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choisissez comment recevoir le lien ou le code."),
            "invalid_choice": _("Choisissez « par courriel » ou « par SMS »."),
        },
    )


class SmsCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code reçu par SMS"),
        max_length=32,
        error_messages={"required": _("Saisissez le code à 6 chiffres reçu par SMS.")},
    )

    def clean_code(self) -> str:
        code: str = "".join(self.cleaned_data["code"].split())
        if not (code.isascii() and code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("Le code reçu par SMS comporte 6 chiffres."))
        return code


class NewPasswordForm(forms.Form):
    """A new password under the account's policy, typed twice."""

    password1 = forms.CharField(
        label=_("Nouveau mot de passe"),
        strip=False,
        max_length=MAX_LENGTH,
        error_messages={"required": _("Choisissez un nouveau mot de passe.")},
    )
    password2 = forms.CharField(
        label=_("Confirmez le nouveau mot de passe"),
        strip=False,
        max_length=MAX_LENGTH,
        error_messages={"required": _("Saisissez de nouveau le mot de passe.")},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password1(self) -> str:
        password: str = self.cleaned_data["password1"]
        password_validation.validate_password(password, self.user)
        return password

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("Les deux mots de passe ne sont pas identiques."))
        return cleaned


class ForgotLoginForm(forms.Form):
    email = forms.EmailField(
        label=_("Adresse électronique"),
        max_length=254,
        error_messages={
            "required": _("Saisissez votre adresse électronique."),
            "invalid": _("Saisissez une adresse électronique valide, par exemple nom@exemple.fr."),
        },
    )
