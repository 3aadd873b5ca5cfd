"""The personal data of second factors ("Mes données"): type, name, dates — never a secret;
and what the public notice says of them (``core.data_notice``)."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.utils.translation import gettext_lazy as _

from convergence.core import data_notice, personal_data

MFA_TYPES = {
    "totp": _("Codes changeants"),
    "recovery_codes": _("Codes de secours"),
    "webauthn": _("Clé d'accès"),
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
    data_notice.declare_kept(
        "second_factors",
        _("Seconds facteurs"),
        what=_(
            "Le type de chaque second facteur (codes changeants, clé d'accès, codes de "
            "secours), le nom donné à une clé, ses dates d'ajout et de dernière utilisation. "
            "Les secrets sont chiffrés, les codes de secours gardés sous forme d'empreinte. "
            "Pour un facteur perdu : la demande de retrait, les vérifications d'identité faites "
            "et qui l'a acceptée."
        ),
        purpose=_("Protéger les comptes qui ouvrent des applications sensibles."),
        retention=lambda: _("Jusqu'à ce que vous les retiriez, au plus tard avec le compte."),
        order=40,
    )
