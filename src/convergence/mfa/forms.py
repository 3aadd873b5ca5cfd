"""Forms of second factors that are the portal's own (allauth's are used as they are)."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.forms import ActivateTOTPForm as AllauthActivateTOTPForm
from allauth.mfa.totp.internal.auth import TOTP
from django import forms
from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import User


class ActivateTOTPForm(AllauthActivateTOTPForm):  # type: ignore[misc]
    """allauth's enrolment form (settings.MFA_FORMS); the code typed to enrol is used up.

    allauth checks the enrolment code without recording it, so the same code could sign in
    once more within its 30 seconds: we mark it used, as a sign-in code is (replay refused).
    """

    def clean_code(self) -> str:
        code: str = super().clean_code()
        TOTP(Authenticator(user_id=self.user.pk))._mark_code_used(code)
        return code


IDENTITY_CHECKS = [
    ("identity_document", _("Pièce d'identité présentée (en personne ou en visioconférence)")),
    ("birth_date", _("Date de naissance vérifiée auprès de la personne")),
    ("known_contact", _("Rappel au numéro ou à l'adresse connus de l'établissement")),
    ("hierarchy", _("Identité confirmée par la hiérarchie de la personne")),
]


class ResetSecondFactorsForm(forms.Form):
    """The identity check of the lost-factor procedure: what was checked, and the birth date."""

    checks = forms.MultipleChoiceField(
        label=_("Vérifications faites"),
        choices=IDENTITY_CHECKS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Cochez les vérifications d'identité que vous avez faites."),
            "invalid_choice": _("Vérification inconnue."),
        },
    )
    birth_date = forms.DateField(
        label=_("Date de naissance donnée par la personne"),
        help_text=_("Format : JJ/MM/AAAA, par exemple 05/04/1988."),
        input_formats=["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"],
        error_messages={
            "required": _("Saisissez la date de naissance donnée par la personne."),
            "invalid": _("Date invalide : utilisez le format JJ/MM/AAAA."),
        },
    )

    def __init__(self, *args: Any, account: User, **kwargs: Any) -> None:
        self.account = account
        super().__init__(*args, **kwargs)

    def clean_checks(self) -> list[str]:
        checks: list[str] = self.cleaned_data["checks"]
        if "identity_document" not in checks and "hierarchy" not in checks:
            raise forms.ValidationError(
                _(
                    "La date de naissance ne suffit pas : vérifiez aussi une pièce d'identité "
                    "ou faites confirmer l'identité par la hiérarchie."
                )
            )
        return checks

    def clean_birth_date(self) -> Any:
        value = self.cleaned_data["birth_date"]
        if self.account.birth_date is None or value != self.account.birth_date:
            raise forms.ValidationError(
                _(
                    "Cette date de naissance ne correspond pas au compte : l'identité n'est pas "
                    "vérifiée, le second facteur n'a pas été retiré."
                ),
                code="mismatch",
            )
        return value


class SecondFactorResetCodeForm(forms.Form):
    """The code sent to the person's confirmed recovery address, as they read it out."""

    code = forms.CharField(
        label=_("Code reçu par la personne"),
        help_text=_("6 chiffres, envoyés à son adresse de secours confirmée."),
        max_length=20,
        error_messages={"required": _("Saisissez le code que la personne a reçu.")},
    )


class ResetDecisionForm(forms.Form):
    """A second DSI's decision on a waiting four-eyes request."""

    decision = forms.ChoiceField(
        choices=[("approve", _("Approuver")), ("refuse", _("Refuser"))],
        error_messages={"required": _("Choisissez d'approuver ou de refuser la demande.")},
    )
