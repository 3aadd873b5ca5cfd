"""The personal data of sessions and activity ("Mes données"): portal sessions, and the audit
trail of the last twelve months as the person sees it (details about others left out); and
what the public notice says of sessions (``core.data_notice``)."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from convergence.audit.models import AuditEvent
from convergence.core import data_notice, personal_data
from convergence.core.models import Academie
from convergence.devices.labels import approximate_place, browser_label
from convergence.devices.sessions import store

AUDIT_MONTHS_SHOWN = 12


def _portal_sessions(user: Any) -> list[personal_data.Entry]:
    # Every stored session with its address and browser, those Django would now refuse
    # (made before the password last changed) too: they are data held about the person.
    sessions = sorted(store().sessions_of(user), key=lambda s: s.last_seen_at, reverse=True)
    academie = Academie.current()
    return [
        personal_data.labelled(
            [
                (_("Ouverte le"), personal_data.when(session.created_at)),
                (_("Dernière activité"), personal_data.when(session.last_seen_at)),
                (_("Adresse IP"), _address(session.ip, academie)),
                (_("Navigateur"), _browser(session.user_agent)),
            ]
        )
        for session in sessions
    ]


def _address(address: str | None, academie: Academie) -> personal_data.NetworkDetail:
    # On the person's page as in "Mes appareils": an approximate place, a masked address.
    return personal_data.NetworkDetail(
        address, str(approximate_place(address, academie)) if address else None
    )


def _browser(user_agent: str | None) -> personal_data.NetworkDetail:
    return personal_data.NetworkDetail(
        user_agent or None, browser_label(user_agent) if user_agent else None
    )


def _audit_trail(user: Any) -> list[personal_data.Entry]:
    since = timezone.now() - datetime.timedelta(days=AUDIT_MONTHS_SHOWN * 31)
    events = AuditEvent.objects.for_user(user).filter(occurred_at__gte=since)
    academie = Academie.current()
    entries = []
    for event in events.iterator(chunk_size=500):
        # Details are left out: an act on someone else's account names that person.
        entries.append(
            personal_data.labelled(
                [
                    (_("Date"), personal_data.when(event.occurred_at)),
                    (_("Événement"), event.label),
                    (
                        _("Vous étiez"),
                        str(_("concerné") if event.subject_id == user.pk else _("l'auteur")),
                    ),
                    (_("Adresse IP"), _address(event.ip_address, academie)),
                    (_("Navigateur"), _browser(event.user_agent)),
                ]
            )
        )
    return entries


def register() -> None:
    """Called from ``DevicesConfig.ready``."""
    personal_data.register_section("sessions", _("Sessions du portail"), _portal_sessions, order=70)
    personal_data.register_section(
        "audit", _("Journal des événements (12 derniers mois)"), _audit_trail, order=90
    )
    data_notice.declare_kept(
        "sessions",
        _("Sessions et appareils"),
        what=_(
            "Pour chaque connexion en cours : date de connexion, dernière activité, adresse IP "
            "et navigateur (ce que montre « Mes appareils »)."
        ),
        purpose=_(
            "Vous garder connecté, vous montrer où votre compte est ouvert pour que vous "
            "puissiez fermer une session, vous prévenir d'une connexion depuis un nouvel "
            "appareil."
        ),
        retention=_sessions_kept,
        order=50,
    )


def _sessions_kept() -> str:
    return gettext(
        "Jusqu'à la déconnexion ou après %(age)s sans activité ; une session expirée est "
        "supprimée dans la journée."
    ) % {"age": data_notice.duration(settings.SESSION_COOKIE_AGE)}
