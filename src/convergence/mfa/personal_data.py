"""The personal data of second factors ("Mes données"): type, name, dates — never a secret."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.utils.translation import gettext_lazy as _

from convergence.core import personal_data

MFA_TYPES = {
    "totp": _("Codes changeants (application d'authentification)"),
    "recovery_codes": _("Codes de secours"),
    "webauthn": _("Clé d'accès (passkey)"),
}


def _second_factors(user: Any) -> list[personal_data.Entry]:
    entries = []
    for authenticator in Authenticator.objects.filter(user=user).order_by("created_at"):
        # Only the type, a passkey's own name and dates: never the secret or the key.
        name = authenticator.data.get("name") if authenticator.type == "webauthn" else None
        entries.append(
            personal_data.labelled(
                [
                    (_("Type"), str(MFA_TYPES.get(authenticator.type, authenticator.type))),
                    (_("Nom"), str(name) if name else None),
                    (_("Ajouté le"), personal_data.when(authenticator.created_at)),
                    (_("Dernière utilisation"), personal_data.when(authenticator.last_used_at)),
                ]
            )
        )
    return entries


def register() -> None:
    """Called from ``MfaConfig.ready``."""
    personal_data.register_section("mfa", _("Seconds facteurs"), _second_factors, order=65)
