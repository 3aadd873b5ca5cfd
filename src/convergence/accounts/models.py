"""Academic accounts, their roles per establishment and school year, and guardianships."""

from __future__ import annotations

import datetime
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convergence.core.models import Establishment

SCHOOL_YEAR_REGEX = r"^[0-9]{4}-[0-9]{4}$"


def school_year_of(day: datetime.date) -> str:
    """The school year a day belongs to; the year turns on 1 September ("2026-2027")."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{start + 1}"


def current_school_year() -> str:
    """The open school year (closed at the rentrée, see school_years.py), else the calendar's."""
    from .school_years import open_school_year

    return open_school_year()


class Role(models.TextChoices):
    ELEVE = "eleve", _("Élève")
    PARENT = "parent", _("Parent")
    ENSEIGNANT = "enseignant", _("Enseignant")
    CPE = "cpe", _("CPE")
    DIRECTION = "direction", _("Personnel de direction")
    ADMINISTRATIF = "administratif", _("Personnel administratif")
    AGENT = "agent", _("Agent")
    REFERENT = "referent", _("Référent numérique")
    DSI = "dsi", _("DSI")


class Profile(models.TextChoices):
    """The three doors of the sign-in page; a role belongs to exactly one."""

    ELEVE = "eleve", _("Élève")
    PARENT = "parent", _("Parent")
    PERSONNEL = "personnel", _("Personnel")


STAFF_ROLES = frozenset(Role) - {Role.ELEVE, Role.PARENT}


def profile_of_role(role: str) -> Profile:
    if role == Role.ELEVE:
        return Profile.ELEVE
    if role == Role.PARENT:
        return Profile.PARENT
    return Profile.PERSONNEL


class AccountState(models.TextChoices):
    INVITED = "invited", _("Invité (non activé)")
    ACTIVE = "active", _("Actif")
    SUSPENDED = "suspended", _("Suspendu")
    ARCHIVED = "archived", _("Archivé")


class UserQuerySet(models.QuerySet["User"]):
    def protected(self) -> UserQuerySet:
        """Accounts beyond a référent's reach, whose lost factor needs a second person.

        Whoever holds, in any school year (a role of last year still opens doors until the
        rentrée is closed), a role other than élève or parent, or a role whose holders must
        use a second factor (``settings.MFA_REQUIRED_ROLES``), or has access to the
        administration (``is_staff``, ``is_superuser``).
        """
        from django.conf import settings

        roles = set(STAFF_ROLES) | set(settings.MFA_REQUIRED_ROLES)
        holders = Assignment.objects.filter(role__in=roles).values("user")
        return self.filter(
            models.Q(pk__in=holders) | models.Q(is_staff=True) | models.Q(is_superuser=True)
        )

    def managed_by(self, actor: User) -> UserQuerySet:
        """Accounts ``actor`` may act on for another person (reset, letters, lost factor).

        A DSI acts on every account; a référent numérique only on pupils and parents of the
        establishments where they hold the référent role this school year, and never on an
        account that is anything else as well (``protected``: a DSI who is also a parent
        stays the DSI's); anyone else on none. The one place delegation is decided
        (docs/accounts.md, docs/security.md).
        """
        if not actor.is_active:
            return self.none()
        roles = Assignment.objects.current().filter(user=actor)
        if roles.filter(role=Role.DSI).exists():
            return self.all()
        establishments = roles.filter(role=Role.REFERENT).values("establishment")
        pupils = Assignment.objects.current().filter(
            role=Role.ELEVE, establishment__in=establishments
        )
        return (
            self.filter(
                models.Q(pk__in=pupils.values("user"))
                | models.Q(guardianships__pupil__in=pupils.values("user"))
            )
            .exclude(pk__in=User.objects.protected().values("pk"))
            .distinct()
        )


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_queryset(self) -> UserQuerySet:
        return UserQuerySet(self.model, using=self._db)

    def managed_by(self, actor: User) -> UserQuerySet:
        return self.get_queryset().managed_by(actor)

    def protected(self) -> UserQuerySet:
        return self.get_queryset().protected()

    def create_user(self, login: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(login=login.lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, login: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("state", AccountState.ACTIVE)
        return self.create_user(login, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """An academic account: one person, one login, whatever their roles."""

    login = models.CharField(
        _("identifiant"),
        max_length=64,
        unique=True,
        help_text=_("Identifiant académique, par exemple jdupont3."),
    )
    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(_("nom"), max_length=150)
    email = models.EmailField(_("adresse électronique"), blank=True)
    state = models.CharField(
        _("état"), max_length=10, choices=AccountState.choices, default=AccountState.INVITED
    )
    birth_date = models.DateField(_("date de naissance"), null=True, blank=True)
    is_staff = models.BooleanField(
        _("accès à l'administration"),
        default=False,
        help_text=_("Peut se connecter à l'interface d'administration."),
    )
    date_joined = models.DateTimeField(_("date de création"), default=timezone.now)
    # Where a forgotten password can be recovered; used only once confirmed.
    recovery_email = models.EmailField(_("adresse de secours"), blank=True)
    recovery_email_confirmed_at = models.DateTimeField(
        _("adresse de secours confirmée le"), null=True, blank=True
    )
    recovery_phone = models.CharField(
        _("téléphone de secours"), max_length=20, blank=True, help_text=_("Au format +33612345678.")
    )
    recovery_phone_confirmed_at = models.DateTimeField(
        _("téléphone de secours confirmé le"), null=True, blank=True
    )
    # The key of the person in the source an import came from ("siecle-eleve:1234567",
    # "siecle-resp:998877", "sts:00012345"): re-importing finds them again, whatever their name.
    import_key = models.CharField(_("clé d'import"), max_length=80, blank=True)
    archived_at = models.DateTimeField(
        _("archivé le"),
        null=True,
        blank=True,
        help_text=_("Les données personnelles sont supprimées trois mois après l'archivage."),
    )

    objects = UserManager()

    USERNAME_FIELD = "login"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["first_name", "last_name"]

    class Meta:
        verbose_name = _("compte")
        verbose_name_plural = _("comptes")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(state__in=AccountState.values), name="user_state_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(login__regex=r"^[a-z0-9][a-z0-9.\-]*$"),
                name="user_login_shape",
            ),
            models.UniqueConstraint(
                fields=["email"], condition=~models.Q(email=""), name="user_email_unique"
            ),
            models.UniqueConstraint(
                fields=["import_key"], condition=~models.Q(import_key=""), name="user_import_key"
            ),
        ]
        indexes: ClassVar = [
            # Sign-in looks accounts up by e-mail; SQLite cannot use the partial unique index
            # above for that, and scanned the whole table (docs/performance.md).
            models.Index(fields=["email"], name="user_email"),
        ]

    def __str__(self) -> str:
        return f"{self.get_full_name()} ({self.login})"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        """Only active accounts may sign in; invited, suspended and archived ones may not."""
        return self.state == AccountState.ACTIVE

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name

    def clean(self) -> None:
        super().clean()
        self.email = self.email.strip().lower()
        self.login = self.login.strip().lower()


class AssignmentQuerySet(models.QuerySet["Assignment"]):
    def current(self) -> AssignmentQuerySet:
        return self.filter(school_year=current_school_year())


class Assignment(models.Model):
    """A role held by a person in an establishment for one school year."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    establishment = models.ForeignKey(
        Establishment, on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(_("rôle"), max_length=16, choices=Role.choices)
    division = models.CharField(
        _("classe ou division"), max_length=40, blank=True, help_text=_("Par exemple 4e B.")
    )
    school_year = models.CharField(_("année scolaire"), max_length=9)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("affectation")
        verbose_name_plural = _("affectations")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="assignment_role"
            ),
            models.CheckConstraint(
                condition=models.Q(school_year__regex=SCHOOL_YEAR_REGEX),
                name="assignment_school_year_shape",
            ),
            models.UniqueConstraint(
                fields=["user", "establishment", "role", "school_year"],
                name="assignment_unique_role_per_year",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["user", "school_year"], name="assignment_user_year"),
        ]

    def __str__(self) -> str:
        return f"{self.user.login} — {self.get_role_display()} — {self.establishment.uai}"


class Guardianship(models.Model):
    """A parent (responsable légal) and a pupil in their charge."""

    parent = models.ForeignKey(User, on_delete=models.CASCADE, related_name="guardianships")
    pupil = models.ForeignKey(User, on_delete=models.CASCADE, related_name="guardians")

    class Meta:
        verbose_name = _("responsabilité légale")
        verbose_name_plural = _("responsabilités légales")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["parent", "pupil"], name="guardianship_unique"),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pupil")), name="guardianship_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent.login} → {self.pupil.login}"


class OneTimeCodePurpose(models.TextChoices):
    ACTIVATION = "activation", _("Activation du compte")
    PASSWORD_RESET = "password_reset", _("Réinitialisation du mot de passe")
    CONFIRM_EMAIL = "confirm_email", _("Confirmation de l'adresse de secours")
    CONFIRM_PHONE = "confirm_phone", _("Confirmation du téléphone de secours")
    MFA_RESET = "mfa_reset", _("Retrait du second facteur perdu")


class OneTimeCodeQuerySet(models.QuerySet["OneTimeCode"]):
    def usable(self) -> OneTimeCodeQuerySet:
        """Codes neither used nor expired."""
        return self.filter(used_at__isnull=True, expires_at__gt=timezone.now())


class OneTimeCode(models.Model):
    """A single-use secret sent or printed for one purpose; only its keyed digest is stored.

    Activation codes (printed on letters), password-reset links and SMS codes, and the codes
    that confirm a recovery e-mail address or phone number are all rows of this table.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="one_time_codes")
    purpose = models.CharField(_("usage"), max_length=16, choices=OneTimeCodePurpose.choices)
    # The e-mail address or phone number the code was sent to (confirmations, SMS resets).
    target = models.CharField(_("destinataire"), max_length=254, blank=True)
    digest = models.CharField(_("empreinte"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    expires_at = models.DateTimeField(_("expire le"))
    used_at = models.DateTimeField(_("utilisé le"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("essais manqués"), default=0)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = OneTimeCodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("code à usage unique")
        verbose_name_plural = _("codes à usage unique")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(purpose__in=OneTimeCodePurpose.values), name="otc_purpose"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["user", "purpose"], name="otc_user_purpose"),
            models.Index(fields=["expires_at"], name="otc_expires"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} — {self.get_purpose_display()}"


class ResetRequestState(models.TextChoices):
    PENDING = "pending", _("En attente d'approbation")
    APPROVED = "approved", _("Approuvée")
    REFUSED = "refused", _("Refusée")
    EXPIRED = "expired", _("Expirée")


class SecondFactorResetRequestQuerySet(models.QuerySet["SecondFactorResetRequest"]):
    def open(self, *, now: datetime.datetime | None = None) -> SecondFactorResetRequestQuerySet:
        """Requests still waiting for a second DSI, and not expired."""
        return self.filter(state=ResetRequestState.PENDING, expires_at__gt=now or timezone.now())


class SecondFactorResetRequest(models.Model):
    """A DSI's request to remove a protected account's lost factors, until a second DSI
    approves or refuses it (four-eyes: the requester can never approve it)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="second_factor_reset_requests"
    )
    # Kept null when a departed account is purged (the audit trail keeps who it was).
    requested_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        related_name="second_factor_resets_requested",
    )
    # The identity checks the requester ticked (forms.mfa.IDENTITY_CHECKS keys).
    checks = models.JSONField(_("vérifications faites"), default=list)
    created_at = models.DateTimeField(_("demandée le"), default=timezone.now)
    expires_at = models.DateTimeField(_("expire le"))
    state = models.CharField(
        _("état"),
        max_length=8,
        choices=ResetRequestState.choices,
        default=ResetRequestState.PENDING,
    )
    decided_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="second_factor_resets_decided",
    )
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)

    objects = SecondFactorResetRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("demande de retrait de second facteur")
        verbose_name_plural = _("demandes de retrait de second facteur")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(state__in=ResetRequestState.values), name="mfareset_state"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        state=ResetRequestState.PENDING,
                        decided_by__isnull=True,
                        decided_at__isnull=True,
                    )
                    | (
                        ~models.Q(state=ResetRequestState.PENDING)
                        & models.Q(decided_at__isnull=False)
                    )
                ),
                name="mfareset_decided_when_closed",
            ),
            # Four-eyes, in the database too: whoever asked never approves.
            models.CheckConstraint(
                condition=~models.Q(state=ResetRequestState.APPROVED)
                | (
                    ~models.Q(decided_by=models.F("requested_by"))
                    & ~models.Q(decided_by=models.F("user"))
                ),
                name="mfareset_four_eyes",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(state=ResetRequestState.PENDING),
                name="mfareset_one_pending_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} — {self.get_state_display()}"


class JobState(models.TextChoices):
    PENDING = "pending", _("En attente")
    RUNNING = "running", _("En cours")
    DONE = "done", _("Terminé")
    FAILED = "failed", _("Échec")


class LetterAudience(models.TextChoices):
    ELEVES = "eleves", _("Élèves")
    PARENTS = "parents", _("Parents")
    PERSONNELS = "personnels", _("Personnels")


class LetterBatch(models.Model):
    """A PDF of activation letters being generated in the background (progress shown)."""

    establishment = models.ForeignKey(
        Establishment, on_delete=models.CASCADE, related_name="letter_batches"
    )
    division = models.CharField(_("classe"), max_length=40, blank=True)
    audience = models.CharField(_("public"), max_length=12, choices=LetterAudience.choices)
    requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="letter_batches"
    )
    created_at = models.DateTimeField(_("demandé le"), default=timezone.now)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    state = models.CharField(
        _("état"), max_length=8, choices=JobState.choices, default=JobState.PENDING
    )
    total = models.PositiveIntegerField(_("lettres à produire"), default=0)
    done = models.PositiveIntegerField(_("lettres produites"), default=0)
    # Relative to settings.VAR_DIR; the file holds activation codes and is deleted once stale.
    file_path = models.CharField(_("fichier"), max_length=200, blank=True)
    error = models.TextField(_("erreur"), blank=True)

    class Meta:
        verbose_name = _("lot de lettres d'activation")
        verbose_name_plural = _("lots de lettres d'activation")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(state__in=JobState.values), name="letterbatch_state"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.establishment.uai} {self.division} {self.audience}"


class ImportKind(models.TextChoices):
    SIECLE = "siecle", _("Élèves et responsables (SIECLE)")
    STS = "sts", _("Personnels (STS)")


class ImportJob(models.Model):
    """One CSV import, dry run or real, run by the task worker with its progress and report."""

    kind = models.CharField(_("type"), max_length=8, choices=ImportKind.choices)
    dry_run = models.BooleanField(_("simulation"), default=True)
    school_year = models.CharField(_("année scolaire"), max_length=9)
    file_name = models.CharField(_("nom du fichier"), max_length=200)
    # Relative to settings.VAR_DIR.
    file_path = models.CharField(_("fichier"), max_length=200)
    requested_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="import_jobs"
    )
    created_at = models.DateTimeField(_("demandé le"), default=timezone.now)
    started_at = models.DateTimeField(_("commencé le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    state = models.CharField(
        _("état"), max_length=8, choices=JobState.choices, default=JobState.PENDING
    )
    total_rows = models.PositiveIntegerField(_("lignes"), default=0)
    processed_rows = models.PositiveIntegerField(_("lignes traitées"), default=0)
    # Counts, per-line errors and samples, in French, for the report page.
    report = models.JSONField(_("rapport"), default=dict, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(state__in=JobState.values), name="importjob_state"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ImportKind.values), name="importjob_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.file_name}"


class SchoolYear(models.Model):
    """A school year the académie opened, and when it was closed (rentrée)."""

    name = models.CharField(_("année scolaire"), max_length=9, unique=True)
    opened_at = models.DateTimeField(_("ouverte le"), default=timezone.now)
    closed_at = models.DateTimeField(_("close le"), null=True, blank=True)

    class Meta:
        ordering = ["-name"]
        verbose_name = _("année scolaire")
        verbose_name_plural = _("années scolaires")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(name__regex=SCHOOL_YEAR_REGEX), name="schoolyear_shape"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SmsMessage(models.Model):
    """The development SMS outbox (settings.SMS_BACKEND = outbox): what would have been sent."""

    to = models.CharField(_("destinataire"), max_length=20)
    body = models.TextField(_("texte"))
    sent_at = models.DateTimeField(_("envoyé le"), default=timezone.now)

    class Meta:
        ordering = ["-sent_at"]
        verbose_name = _("SMS (boîte d'envoi de développement)")
        verbose_name_plural = _("SMS (boîte d'envoi de développement)")

    def __str__(self) -> str:
        return f"{self.to} {self.sent_at:%Y-%m-%d %H:%M}"
