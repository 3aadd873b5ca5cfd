"""The personal data accounts holds ("Mes données"): identity, recovery contacts, origin,
roles, guardianships, one-time codes (never a password hash or a code digest)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import AccountState, Assignment, Guardianship, OneTimeCode, User
from convergence.core import personal_data

IMPORT_SOURCES = {
    "siecle-eleve": _("SIECLE (élève)"),
    "siecle-resp": _("SIECLE (responsable légal)"),
    "sts": _("STS (personnel)"),
}


def _identity(user: User) -> list[personal_data.Entry]:
    purge_on = None
    if user.state == AccountState.ARCHIVED and user.archived_at is not None:
        purge_on = personal_data.day(
            timezone.localdate(user.archived_at)
            + datetime.timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS)
        )
    return [
        personal_data.labelled(
            [
                (_("Identifiant"), user.login),
                (_("Prénom"), user.first_name),
                (_("Nom"), user.last_name),
                (_("Adresse électronique"), user.email or None),
                (_("Date de naissance"), personal_data.day(user.birth_date)),
                (_("État du compte"), str(user.get_state_display())),
                (_("Compte créé le"), personal_data.when(user.date_joined)),
                (_("Archivé le"), personal_data.when(user.archived_at)),
                (_("Suppression des données prévue le"), purge_on),
            ]
        )
    ]


def _recovery(user: User) -> list[personal_data.Entry]:
    if not user.recovery_email and not user.recovery_phone:
        return []
    return [
        personal_data.labelled(
            [
                (_("Adresse de secours"), user.recovery_email or None),
                (_("Adresse confirmée le"), personal_data.when(user.recovery_email_confirmed_at)),
                (_("Téléphone de secours"), user.recovery_phone or None),
                (_("Téléphone confirmé le"), personal_data.when(user.recovery_phone_confirmed_at)),
            ]
        )
    ]


def _import_source(user: User) -> list[personal_data.Entry]:
    if not user.import_key:
        return [
            personal_data.labelled(
                [(_("Origine"), str(_("Compte créé dans le portail"))), (_("Clé"), None)]
            )
        ]
    prefix = user.import_key.split(":", 1)[0]
    source = IMPORT_SOURCES.get(prefix, prefix)
    return [personal_data.labelled([(_("Origine"), str(source)), (_("Clé"), user.import_key)])]


def _assignments(user: User) -> list[personal_data.Entry]:
    rows = (
        Assignment.objects.filter(user=user)
        .select_related("establishment")
        .order_by("-school_year", "establishment__name", "role")
    )
    return [
        personal_data.labelled(
            [
                (_("Année scolaire"), row.school_year),
                (_("Établissement"), f"{row.establishment.name} ({row.establishment.uai})"),
                (_("Rôle"), str(row.get_role_display())),
                (_("Classe"), row.division or None),
            ]
        )
        for row in rows
    ]


def _guardianships(user: User) -> list[personal_data.Entry]:
    links = Guardianship.objects.filter(Q(parent=user) | Q(pupil=user)).select_related(
        "parent", "pupil"
    )
    entries = []
    for link in links.order_by("pk"):
        child = link.parent_id == user.pk
        other = link.pupil if child else link.parent
        entries.append(
            personal_data.labelled(
                [
                    (_("Lien"), str(_("Enfant") if child else _("Responsable légal"))),
                    (_("Nom"), other.get_full_name()),
                    (_("Identifiant"), other.login),
                ]
            )
        )
    return entries


def _one_time_codes(user: User) -> list[personal_data.Entry]:
    codes = OneTimeCode.objects.filter(user=user).order_by("-created_at")
    return [
        personal_data.labelled(
            [
                (_("Usage"), str(code.get_purpose_display())),
                (_("Envoyé à"), code.target or None),
                (_("Créé le"), personal_data.when(code.created_at)),
                (_("Expire le"), personal_data.when(code.expires_at)),
                (_("Utilisé le"), personal_data.when(code.used_at)),
            ]
        )
        for code in codes
    ]


def register() -> None:
    """Called from ``AccountsConfig.ready``."""
    personal_data.register_section("identity", _("Identité"), _identity, order=10)
    personal_data.register_section("recovery", _("Moyens de secours"), _recovery, order=20)
    personal_data.register_section("source", _("Origine du compte"), _import_source, order=25)
    personal_data.register_section(
        "assignments", _("Rôles et affectations"), _assignments, order=30
    )
    personal_data.register_section(
        "guardianships", _("Responsabilités légales"), _guardianships, order=40
    )
    personal_data.register_section("codes", _("Codes à usage unique"), _one_time_codes, order=60)
