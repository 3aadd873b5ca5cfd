"""Forms of the accounts app: sign-in in DSFR style."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms
from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import Profile

LOGIN_HELP = {
    Profile.ELEVE: _(
        "Votre identifiant académique figure sur la lettre remise par votre établissement "
        "(par exemple jdupont3)."
    ),
    Profile.PARENT: _(
        "Votre adresse électronique, ou l'identifiant figurant sur la lettre remise par "
        "l'établissement de votre enfant."
    ),
    Profile.PERSONNEL: _(
        "Votre identifiant académique (par exemple mmartin) ou votre adresse académique "
        "(prénom.nom@%(domain)s)."
    ),
}


def login_help(profile: Profile, *, mail_domain: str) -> str:
    """Which identifier a person of ``profile`` signs in with (the académie's mail domain
    in the staff's address)."""
    return str(LOGIN_HELP[profile]) % {"domain": mail_domain}


class LoginForm(AllauthLoginForm):  # type: ignore[misc]
    """allauth's login form with French labels and DSFR classes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        login = self.fields["login"]
        login.label = _("Identifiant")
        login.max_length = 254
        login.widget.attrs.update(
            {
                "class": "fr-input",
                "autocomplete": "username",
                "autocapitalize": "none",
                "spellcheck": "false",
                "placeholder": "",
            }
        )
        password = self.fields["password"]
        password.label = _("Mot de passe")
        password.help_text = ""
        password.widget.attrs.update(
            {"class": "fr-password__input fr-input", "autocomplete": "current-password"}
        )


class PasswordStrengthForm(forms.Form):
    """The field the strength meter reads while a new password is typed."""

    password1 = forms.CharField(required=False, strip=False, max_length=4096)
