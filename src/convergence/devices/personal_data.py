"""The personal data of sessions and activity ("Mes données"): portal sessions, and the audit
trail of the last twelve months as the person sees it (details about others left out)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convergence.audit.models import AuditEvent
from convergence.core import personal_data
from convergence.devices.sessions import store

AUDIT_MONTHS_SHOWN = 12


def _portal_sessions(user: Any) -> list[personal_data.Entry]:
    # Every stored session with its address and browser, those Django would now refuse
    # (made before the password last changed) too: they are data held about the person.
    sessions = sorted(store().sessions_of(user), key=lambda s: s.last_seen_at, reverse=True)
    return [
        personal_data.labelled(
            [
                (_("Ouverte le"), personal_data.when(session.created_at)),
                (_("Dernière activité"), personal_data.when(session.last_seen_at)),
                (_("Adresse IP"), session.ip),
                (_("Navigateur"), session.user_agent),
            ]
        )
        for session in sessions
    ]


def _audit_trail(user: Any) -> list[personal_data.Entry]:
    since = timezone.now() - datetime.timedelta(days=AUDIT_MONTHS_SHOWN * 31)
    events = AuditEvent.objects.for_user(user).filter(occurred_at__gte=since)
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
                    (_("Adresse IP"), event.ip_address),
                    (_("Navigateur"), event.user_agent or None),
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
