"""The personal data accounts holds ("Mes données"): identity, recovery contacts, origin,
roles, guardianships, one-time codes (never a password hash or a code digest); and what the
public notice says of them and of the sign-in throttle's counters and device cookie
(``core.data_notice``)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from convergence.accounts import throttle
from convergence.accounts.actions.activation import CONFIRMATION_CODE_LIFETIME
from convergence.accounts.actions.codes import EXPIRED_CODE_GRACE
from convergence.accounts.models import AccountState, Assignment, Guardianship, OneTimeCode, User
from convergence.core import data_notice, personal_data
from convergence.core.data_notice import duration

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
    _declare_notice()


def _account_kept() -> str:
    return gettext(
        "Tant que vous êtes élève, responsable légal ou personnel de l'académie. Un compte qui "
        "quitte l'académie est archivé, puis supprimé %(delay)s après avec tout ce qui s'y "
        "rattache."
    ) % {"delay": duration(datetime.timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS))}


def _codes_kept() -> str:
    return gettext(
        "Valables %(activation)s pour un code d'activation, %(reset)s pour un lien ou un code "
        "de réinitialisation, %(confirmation)s pour un code de confirmation ; supprimés "
        "%(grace)s après leur expiration."
    ) % {
        "activation": duration(datetime.timedelta(days=settings.ACTIVATION_CODE_DAYS)),
        "reset": duration(settings.PASSWORD_RESET_TIMEOUT),
        "confirmation": duration(CONFIRMATION_CODE_LIFETIME),
        "grace": duration(EXPIRED_CODE_GRACE),
    }


def _throttle_kept() -> str:
    longest = max(
        settings.THROTTLE_WINDOW_SECONDS,
        settings.THROTTLE_SPRAY_FLAG_SECONDS,
        settings.THROTTLE_SPRAY_PASSWORD_WINDOW_SECONDS,
    )
    return gettext(
        "Dans la mémoire partagée du portail, jamais dans sa base : effacés au plus tard "
        "%(delay)s après la dernière tentative."
    ) % {"delay": duration(longest)}


def _declare_notice() -> None:
    data_notice.declare_kept(
        "account",
        _("Compte"),
        what=_(
            "Identifiant, nom, prénom, date de naissance, adresse électronique académique, "
            "rôles dans les établissements et classe, liens entre responsables légaux et "
            "élèves, origine du compte (SIECLE, STS ou création dans le portail). Le mot de "
            "passe n'est gardé que sous une forme qui ne permet pas de le retrouver."
        ),
        purpose=_("Vous identifier et vous ouvrir les services de votre profil."),
        retention=_account_kept,
        order=10,
    )
    data_notice.declare_kept(
        "recovery",
        _("Moyens de secours"),
        what=_("L'adresse électronique et le numéro de téléphone de secours que vous donnez."),
        purpose=_(
            "Vous permettre de retrouver l'accès à votre compte (mot de passe ou identifiant "
            "oublié) et vous prévenir d'une connexion inhabituelle."
        ),
        retention=lambda: _("Jusqu'à ce que vous les changiez, au plus tard avec le compte."),
        order=20,
    )
    data_notice.declare_kept(
        "codes",
        _("Codes à usage unique"),
        what=_(
            "Codes d'activation (lettres d'activation), liens et codes de réinitialisation du "
            "mot de passe, codes de confirmation d'un moyen de secours : à qui ils ont été "
            "envoyés et quand ; le code lui-même n'est gardé que sous forme d'empreinte."
        ),
        purpose=_("Activer un compte, retrouver l'accès, confirmer un moyen de secours."),
        retention=_codes_kept,
        order=30,
    )
    data_notice.declare_kept(
        "throttle",
        _("Tentatives de connexion échouées"),
        what=_(
            "Des compteurs rangés sous une empreinte de l'identifiant saisi, de l'adresse IP "
            "et du navigateur."
        ),
        purpose=_(
            "Ralentir qui essaie de deviner un mot de passe, sans bloquer la vraie personne."
        ),
        retention=_throttle_kept,
        order=70,
    )
    data_notice.declare_cookie(
        "device",
        name=throttle.device_cookie_name,
        purpose=_(
            "Reconnaître un navigateur où vous vous êtes déjà connecté : en cas d'attaque sur "
            "votre compte, il n'est jugé que sur ses propres erreurs et vous pouvez encore "
            "vous connecter. Il ne contient qu'un numéro de compte signé."
        ),
        lifetime=lambda: duration(throttle.DEVICE_COOKIE_MAX_AGE),
        order=40,
    )
