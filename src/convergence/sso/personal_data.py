"""The personal data of single sign-on ("Mes données"): consents and sign-on sessions; and
what the public notice says of them and of tokens and tickets (``core.data_notice``)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import User
from convergence.core import data_notice, personal_data
from convergence.core.data_notice import duration
from convergence.sso.actions.sessions import ENDED_SESSIONS_KEPT, EXPIRED_TICKETS_KEPT
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
    data_notice.declare_kept(
        "sso_sessions",
        _("Sessions d'authentification unique"),
        what=_(
            "Quand vous avez ouvert un service depuis le portail, avec quel niveau "
            "d'authentification, et quand la session s'est terminée."
        ),
        purpose=_(
            "Vous connecter une seule fois à tous vos services, et vous en déconnecter tous "
            "en quittant le portail."
        ),
        retention=lambda: (
            gettext("Supprimées %(delay)s après leur fin.")
            % {"delay": duration(ENDED_SESSIONS_KEPT)}
        ),
        order=55,
    )
    data_notice.declare_kept(
        "sso_tokens",
        _("Jetons et tickets des services"),
        what=_(
            "Les jetons (OpenID Connect) et tickets (CAS) que le portail remet à un service pour "
            "lui dire qui vous êtes : ils désignent votre compte, jamais votre mot de passe."
        ),
        purpose=_("Ouvrir un service sans vous redemander votre mot de passe."),
        retention=_tokens_kept,
        order=57,
    )
    data_notice.declare_kept(
        "consents",
        _("Services extérieurs autorisés"),
        what=_(
            "Les services extérieurs à l'académie que vous avez autorisés, les informations "
            "qu'ils reçoivent et la date de votre accord."
        ),
        purpose=_("Ne transmettre vos informations à un service extérieur qu'avec votre accord."),
        retention=lambda: _(
            "Jusqu'à ce que vous retiriez votre accord (Mon compte, « Services autorisés »), "
            "au plus tard avec le compte."
        ),
        order=60,
    )


def _tokens_kept() -> str:
    return gettext(
        "Un ticket de service CAS vaut %(ticket)s, un jeton d'accès %(access)s, un jeton de "
        "rafraîchissement au plus %(refresh)s. Supprimés chaque jour une fois expirés (les "
        "tickets %(grace)s après)."
    ) % {
        "ticket": duration(settings.CAS_TICKET_SECONDS),
        "access": duration(settings.OIDC_ACCESS_TOKEN_SECONDS),
        "refresh": duration(settings.OIDC_REFRESH_ABSOLUTE_SECONDS),
        "grace": duration(EXPIRED_TICKETS_KEPT),
    }
