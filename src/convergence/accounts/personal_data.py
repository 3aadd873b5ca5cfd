"""What the portal holds on a person ("Mes données", RGPD art. 15 and 20), and its exports.

Each kind of data is a *section* collected by one function. Sections of accounts are
declared here; the other apps' (favourites of the portal, consents and sessions of single
sign-on) are registered here too, in ``_register_other_apps``, with their models imported
only when collecting — the one place where accounts reads another app's tables, read-only,
so that no app has to import accounts' internals and accounts imports none of theirs at
load time. A new app adds its section with ``register_section`` from its ``ready()``.

Never collected: password hashes, second-factor secrets, code digests, session keys.
"""

from __future__ import annotations

import datetime
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import (
    AccountState,
    Assignment,
    Guardianship,
    OneTimeCode,
    User,
)

Value = str | int | bool | None
Entry = dict[str, Value]
Collector = Callable[[User], list[Entry]]

MAJORITY_YEARS = 18
AUDIT_MONTHS_SHOWN = 12


@dataclass(frozen=True)
class Section:
    key: str
    title: str | Promise
    collect: Collector
    order: int


_SECTIONS: dict[str, Section] = {}


def register_section(
    key: str, title: str | Promise, collect: Collector, *, order: int = 100
) -> None:
    """Declare a kind of personal data (re-registering a key replaces it)."""
    _SECTIONS[key] = Section(key=key, title=title, collect=collect, order=order)


def sections() -> list[Section]:
    return sorted(_SECTIONS.values(), key=lambda section: (section.order, section.key))


def collect_personal_data(user: User) -> dict[str, Any]:
    """Everything the portal holds on ``user``, as JSON-ready data (strings, numbers).

    ``{"account", "generated_at", "sections": [{"key", "title", "entries": [{label: value}]}]}``;
    dates are Paris time, ``YYYY-MM-DD HH:MM``.
    """
    return {
        "account": user.login,
        "generated_at": _when(timezone.now()),
        "sections": [
            {"key": section.key, "title": str(section.title), "entries": section.collect(user)}
            for section in sections()
        ],
    }


def _when(moment: datetime.datetime | None) -> str | None:
    if moment is None:
        return None
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _day(day: datetime.date | None) -> str | None:
    return day.isoformat() if day else None


def _labelled(pairs: list[tuple[str | Promise, Value]]) -> Entry:
    return {str(label): value for label, value in pairs}


# --- Minors ---------------------------------------------------------------------------------


def majority_birth_date(today: datetime.date | None = None) -> datetime.date:
    """People born after this day are minors."""
    day = today or timezone.localdate()
    try:
        return day.replace(year=day.year - MAJORITY_YEARS)
    except ValueError:  # 29 February
        return day.replace(year=day.year - MAJORITY_YEARS, day=28)


def minor_children_of(parent: User) -> QuerySet[User]:
    """The minor pupils ``parent`` is a legal guardian of (whose data the parent may see)."""
    return User.objects.filter(
        guardians__parent=parent, birth_date__gt=majority_birth_date()
    ).order_by("first_name", "pk")


# --- Sections of accounts ---------------------------------------------------------------------

IMPORT_SOURCES = {
    "siecle-eleve": _("SIECLE (élève)"),
    "siecle-resp": _("SIECLE (responsable légal)"),
    "sts": _("STS (personnel)"),
}


def _identity(user: User) -> list[Entry]:
    purge_on = None
    if user.state == AccountState.ARCHIVED and user.archived_at is not None:
        purge_on = _day(
            timezone.localdate(user.archived_at)
            + datetime.timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS)
        )
    return [
        _labelled(
            [
                (_("Identifiant"), user.login),
                (_("Prénom"), user.first_name),
                (_("Nom"), user.last_name),
                (_("Adresse électronique"), user.email or None),
                (_("Date de naissance"), _day(user.birth_date)),
                (_("État du compte"), str(user.get_state_display())),
                (_("Compte créé le"), _when(user.date_joined)),
                (_("Archivé le"), _when(user.archived_at)),
                (_("Suppression des données prévue le"), purge_on),
            ]
        )
    ]


def _recovery(user: User) -> list[Entry]:
    if not user.recovery_email and not user.recovery_phone:
        return []
    return [
        _labelled(
            [
                (_("Adresse de secours"), user.recovery_email or None),
                (_("Adresse confirmée le"), _when(user.recovery_email_confirmed_at)),
                (_("Téléphone de secours"), user.recovery_phone or None),
                (_("Téléphone confirmé le"), _when(user.recovery_phone_confirmed_at)),
            ]
        )
    ]


def _import_source(user: User) -> list[Entry]:
    if not user.import_key:
        return [
            _labelled([(_("Origine"), str(_("Compte créé dans le portail"))), (_("Clé"), None)])
        ]
    prefix = user.import_key.split(":", 1)[0]
    source = IMPORT_SOURCES.get(prefix, prefix)
    return [_labelled([(_("Origine"), str(source)), (_("Clé"), user.import_key)])]


def _assignments(user: User) -> list[Entry]:
    rows = (
        Assignment.objects.filter(user=user)
        .select_related("establishment")
        .order_by("-school_year", "establishment__name", "role")
    )
    return [
        _labelled(
            [
                (_("Année scolaire"), row.school_year),
                (_("Établissement"), f"{row.establishment.name} ({row.establishment.uai})"),
                (_("Rôle"), str(row.get_role_display())),
                (_("Classe"), row.division or None),
            ]
        )
        for row in rows
    ]


def _guardianships(user: User) -> list[Entry]:
    links = Guardianship.objects.filter(Q(parent=user) | Q(pupil=user)).select_related(
        "parent", "pupil"
    )
    entries = []
    for link in links.order_by("pk"):
        child = link.parent_id == user.pk
        other = link.pupil if child else link.parent
        entries.append(
            _labelled(
                [
                    (_("Lien"), str(_("Enfant") if child else _("Responsable légal"))),
                    (_("Nom"), other.get_full_name()),
                    (_("Identifiant"), other.login),
                ]
            )
        )
    return entries


def _one_time_codes(user: User) -> list[Entry]:
    codes = OneTimeCode.objects.filter(user=user).order_by("-created_at")
    return [
        _labelled(
            [
                (_("Usage"), str(code.get_purpose_display())),
                (_("Envoyé à"), code.target or None),
                (_("Créé le"), _when(code.created_at)),
                (_("Expire le"), _when(code.expires_at)),
                (_("Utilisé le"), _when(code.used_at)),
            ]
        )
        for code in codes
    ]


MFA_TYPES = {
    "totp": _("Codes changeants (application d'authentification)"),
    "recovery_codes": _("Codes de secours"),
    "webauthn": _("Clé d'accès (passkey)"),
}


def _second_factors(user: User) -> list[Entry]:
    from allauth.mfa.models import Authenticator

    entries = []
    for authenticator in Authenticator.objects.filter(user=user).order_by("created_at"):
        # Only the type, a passkey's own name and dates: never the secret or the key.
        name = authenticator.data.get("name") if authenticator.type == "webauthn" else None
        entries.append(
            _labelled(
                [
                    (_("Type"), str(MFA_TYPES.get(authenticator.type, authenticator.type))),
                    (_("Nom"), str(name) if name else None),
                    (_("Ajouté le"), _when(authenticator.created_at)),
                    (_("Dernière utilisation"), _when(authenticator.last_used_at)),
                ]
            )
        )
    return entries


def _portal_sessions(user: User) -> list[Entry]:
    from allauth.usersessions.models import UserSession

    sessions = UserSession.objects.filter(user=user).order_by("-last_seen_at")
    return [
        _labelled(
            [
                (_("Ouverte le"), _when(session.created_at)),
                (_("Dernière activité"), _when(session.last_seen_at)),
                (_("Adresse IP"), session.ip),
                (_("Navigateur"), session.user_agent),
            ]
        )
        for session in sessions
    ]


def _audit_trail(user: User) -> list[Entry]:
    from convergence.audit.models import AuditEvent

    since = timezone.now() - datetime.timedelta(days=AUDIT_MONTHS_SHOWN * 31)
    events = AuditEvent.objects.for_user(user).filter(occurred_at__gte=since)
    entries = []
    for event in events.iterator(chunk_size=500):
        # Details are left out: an act on someone else's account names that person.
        entries.append(
            _labelled(
                [
                    (_("Date"), _when(event.occurred_at)),
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


# --- Sections of other apps (read-only, imported when collecting) ------------------------------


def _favourites(user: User) -> list[Entry]:
    from convergence.portal.models import Favourite

    favourites = Favourite.objects.filter(user=user).select_related("service")
    return [
        _labelled([(_("Service"), favourite.service.name), (_("Position"), favourite.position)])
        for favourite in favourites.order_by("position", "pk")
    ]


def _consents(user: User) -> list[Entry]:
    from convergence.sso.models import Consent

    consents = Consent.objects.filter(user=user).select_related("service")
    return [
        _labelled(
            [
                (_("Service"), consent.service.name),
                (_("Informations transmises"), consent.scopes),
                (_("Accordé le"), _when(consent.granted_at)),
            ]
        )
        for consent in consents.order_by("service__name")
    ]


def _sso_sessions(user: User) -> list[Entry]:
    from convergence.sso.models import SsoSession

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
            _labelled(
                [
                    (_("Ouverte le"), _when(session.created)),
                    (_("Terminée le"), _when(session.ended_at)),
                    (_("Niveau"), str(session.get_acr_display())),
                    (_("Services ouverts"), ", ".join(services) or None),
                ]
            )
        )
    return entries


def _register_accounts_sections() -> None:
    register_section("identity", _("Identité"), _identity, order=10)
    register_section("recovery", _("Moyens de secours"), _recovery, order=20)
    register_section("source", _("Origine du compte"), _import_source, order=25)
    register_section("assignments", _("Rôles et affectations"), _assignments, order=30)
    register_section("guardianships", _("Responsabilités légales"), _guardianships, order=40)
    register_section("codes", _("Codes à usage unique"), _one_time_codes, order=60)
    register_section("mfa", _("Seconds facteurs"), _second_factors, order=65)
    register_section("sessions", _("Sessions du portail"), _portal_sessions, order=70)
    register_section(
        "audit", _("Journal des événements (12 derniers mois)"), _audit_trail, order=90
    )


def _register_other_apps() -> None:
    register_section("favourites", _("Services favoris"), _favourites, order=50)
    register_section("consents", _("Services extérieurs autorisés"), _consents, order=55)
    register_section(
        "sso_sessions", _("Sessions d'authentification unique"), _sso_sessions, order=75
    )


_register_accounts_sections()
_register_other_apps()


# --- Exports ------------------------------------------------------------------------------


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def as_pdf(data: dict[str, Any], *, person: str) -> bytes:
    """A readable PDF of ``collect_personal_data``'s result (reportlab, A4)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    cell = styles["BodyText"].clone("cell", fontSize=8, leading=10)
    story: list[Any] = [
        Paragraph(escape(str(_("Mes données — %(name)s") % {"name": person})), styles["Title"]),
        Paragraph(
            escape(
                str(
                    _("Compte %(login)s, extrait le %(date)s (heure de Paris).")
                    % {"login": data["account"], "date": data["generated_at"]}
                )
            ),
            styles["BodyText"],
        ),
        Spacer(1, 4 * mm),
    ]
    width = A4[0] - 30 * mm
    for section in data["sections"]:
        story.append(Paragraph(escape(section["title"]), styles["Heading2"]))
        entries = section["entries"]
        if not entries:
            story.append(Paragraph(escape(str(_("Aucune donnée."))), styles["BodyText"]))
            continue
        columns = list(entries[0].keys())
        rows = [[Paragraph(f"<b>{escape(label)}</b>", cell) for label in columns]]
        for entry in entries:
            rows.append([Paragraph(escape(_text(entry.get(label))), cell) for label in columns])
        table = Table(rows, colWidths=[width / len(columns)] * len(columns), repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story.append(table)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=str(_("Mes données")),
        author="Convergence",
    )
    document.build(story)
    return buffer.getvalue()


def _text(value: Value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("oui") if value else _("non"))
    return str(value)
