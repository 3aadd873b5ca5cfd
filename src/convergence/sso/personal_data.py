"""The personal data of single sign-on ("Mes données"): consents and sign-on sessions."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import User
from convergence.core import personal_data
from convergence.sso.models import Consent, SsoSession


def _consents(user: User) -> list[personal_data.Entry]:
    consents = Consent.objects.filter(user=user).select_related("service")
    return [
        personal_data.labelled(
            [
                (_("Service"), consent.service.name),
                (_("Informations transmises"), consent.scopes),
                (_("Accordé le"), personal_data.when(consent.granted_at)),
            ]
        )
        for consent in consents.order_by("service__name")
    ]


def _sso_sessions(user: User) -> list[personal_data.Entry]:
    sessions = (
        SsoSession.objects.filter(user=user)
        .prefetch_related(
            "participations__oidc_client__service",
            "participations__oidc_client__application",
            "participations__cas_service__service",
        )
        .order_by("-created")
    )
    entries = []
    for session in sessions:
        services = []
        for participation in session.participations.all():
            if participation.oidc_client is not None:
                services.append(str(participation.oidc_client))
                if participation.oidc_client.service is not None:
                    services[-1] = participation.oidc_client.service.name
            elif participation.cas_service is not None:
                services.append(participation.cas_service.service.name)
        entries.append(
            personal_data.labelled(
                [
                    (_("Ouverte le"), personal_data.when(session.created)),
                    (_("Terminée le"), personal_data.when(session.ended_at)),
                    (_("Niveau"), str(session.get_acr_display())),
                    (_("Services ouverts"), ", ".join(services) or None),
                ]
            )
        )
    return entries


def register() -> None:
    """Called from ``SsoConfig.ready``."""
    personal_data.register_section(
        "consents", _("Services extérieurs autorisés"), _consents, order=55
    )
    personal_data.register_section(
        "sso_sessions", _("Sessions d'authentification unique"), _sso_sessions, order=75
    )
