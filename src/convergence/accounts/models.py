"""Academic accounts, their roles per establishment and school year, and guardianships."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.cache import cache
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convergence.core.models import Establishment

SCHOOL_YEAR_REGEX = r"^[0-9]{4}-[0-9]{4}$"


def school_year_of(day: datetime.date) -> str:
    """The school year a day belongs to; the year turns on 1 September ("2026-2027")."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{start + 1}"


OPEN_YEAR_CACHE_KEY = "accounts:open-school-year"
OPEN_YEAR_CACHE_SECONDS = 60


# Each process also keeps the answer for a few seconds (it is read on every dashboard view,
# ID token and CAS validation): another process sees a year closed or opened that much later.
LOCAL_YEAR_SECONDS = 5.0
_local_year: tuple[float, datetime.date, str] | None = None


def current_school_year() -> str:
    """The open school year: the latest one opened and not closed (the DSI opens the next one
    when closing the previous one at the rentrée); before any year was ever closed, the
    calendar's (it turns on 1 September). Cached 60 s in the shared cache and
    ``LOCAL_YEAR_SECONDS`` in each process."""
    global _local_year
    today = timezone.localdate()
    local = _local_year
    if local is not None and local[1] == today and time.monotonic() - local[0] < LOCAL_YEAR_SECONDS:
        return local[2]
    year = cache.get(OPEN_YEAR_CACHE_KEY)
    if not isinstance(year, str):
        name = (
            SchoolYear.objects.filter(closed_at__isnull=True)
            .order_by("-name")
            .values_list("name", flat=True)
            .first()
        )
        year = name or school_year_of(today)
        cache.set(OPEN_YEAR_CACHE_KEY, year, OPEN_YEAR_CACHE_SECONDS)
    _local_year = (time.monotonic(), today, year)
    return year


def forget_open_school_year() -> None:
    """Drop the cached answer (after a year is closed or opened)."""
    global _local_year
    _local_year = None
    cache.delete(OPEN_YEAR_CACHE_KEY)


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
    """The sign-in door a role belongs to: pupils and parents have their own, every other
    role is staff."""
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


MAJORITY_YEARS = 18


def majority_birth_date(today: datetime.date | None = None) -> datetime.date:
    """People born after this day are minors."""
    day = today or timezone.localdate()
    try:
        return day.replace(year=day.year - MAJORITY_YEARS)
    except ValueError:  # 29 February
        return day.replace(year=day.year - MAJORITY_YEARS, day=28)


class UserQuerySet(models.QuerySet["User"]):
    def children_of(self, parent: User) -> UserQuerySet:
        """The pupils ``parent`` is a legal guardian of: the one place this is written."""
        return self.filter(guardians__parent=parent)

    def guardians_of(self, pupil: User) -> UserQuerySet:
        """The legal guardians of ``pupil``."""
        return self.filter(guardianships__pupil=pupil)

    def holding_role_at(self, role: str, establishment_ids: Iterable[int]) -> UserQuerySet:
        """Active people holding ``role`` this school year in one of ``establishment_ids``
        (the référents a parent may contact, for example)."""
        return self.filter(
            state=AccountState.ACTIVE,
            pk__in=Assignment.objects.current()
            .filter(role=role, establishment_id__in=list(establishment_ids))
            .values("user_id"),
        )

    def with_academic_mailbox(self) -> UserQuerySet:
        """Active people with a mailbox on the académie's mail server: a role this school
        year other than parent (``permissions.has_academic_mailbox`` for one person)."""
        return self.filter(
            state=AccountState.ACTIVE,
            pk__in=Assignment.objects.current().exclude(role=Role.PARENT).values("user"),
        )

    def minors(self, *, today: datetime.date | None = None) -> UserQuerySet:
        """People under 18 (born after ``majority_birth_date``)."""
        return self.filter(birth_date__gt=majority_birth_date(today))

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

    def matching(self, query: str) -> UserQuerySet:
        """Accounts whose login or names contain every word of ``query`` (its first five)."""
        accounts = self
        for word in query.split()[:5]:
            accounts = accounts.filter(
                models.Q(login__icontains=word)
                | models.Q(first_name__icontains=word)
                | models.Q(last_name__icontains=word)
            )
        return accounts

    def reachable_by(self, person: User) -> UserQuerySet:
        """Accounts ``person`` may find in the académie's directory to write to.

        Only active accounts, and only through roles held this school year:

        * staff (every role but élève and parent) reach every staff member of the académie,
          and the pupils of the establishments where they hold a staff role, and those
          pupils' parents (at the parent's own address: parents have no académie mailbox);
        * a pupil reaches the staff of the establishments where they are a pupil: never
          other pupils, never parents;
        * a parent reaches their children's teachers and vie scolaire (enseignants, CPE,
          personnels de direction of the establishments where a child of theirs is a pupil);
        * nobody reaches anyone else. Someone who is several of these reaches the union.

        The one place this is decided (docs/mail.md); evaluated as one query.
        """
        if not person.is_active:
            return self.none()
        current = Assignment.objects.current()
        staff_roles = sorted(STAFF_ROLES)
        staff_at = current.filter(user=person, role__in=staff_roles).values("establishment")
        pupil_at = current.filter(user=person, role=Role.ELEVE).values("establishment")
        staff = current.filter(role__in=staff_roles)
        own_pupils = current.filter(role=Role.ELEVE, establishment__in=staff_at).values("user")
        children_at = current.filter(
            role=Role.ELEVE,
            user__in=Guardianship.objects.filter(parent=person).values("pupil"),
        ).values("establishment")
        children_staff = current.filter(
            role__in=[Role.ENSEIGNANT, Role.CPE, Role.DIRECTION], establishment__in=children_at
        )
        return self.filter(
            # Every staff member of the académie, for a person who is staff this year.
            models.Q(models.Exists(staff_at), pk__in=staff.values("user"))
            # The staff of a pupil's own establishments.
            | models.Q(pk__in=staff.filter(establishment__in=pupil_at).values("user"))
            # The pupils of a staff member's own establishments, and their parents.
            | models.Q(pk__in=own_pupils)
            | models.Q(pk__in=Guardianship.objects.filter(pupil__in=own_pupils).values("parent"))
            # A parent's children's teachers and vie scolaire.
            | models.Q(pk__in=children_staff.values("user")),
            state=AccountState.ACTIVE,
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
        held = Assignment.objects.current()
        if held.holding(actor, Role.DSI).exists():
            return self.all()
        establishments = held.holding(actor, Role.REFERENT).values("establishment")
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

    def reachable_by(self, person: User) -> UserQuerySet:
        return self.get_queryset().reachable_by(person)

    def children_of(self, parent: User) -> UserQuerySet:
        return self.get_queryset().children_of(parent)

    def guardians_of(self, pupil: User) -> UserQuerySet:
        return self.get_queryset().guardians_of(pupil)

    def with_academic_mailbox(self) -> UserQuerySet:
        return self.get_queryset().with_academic_mailbox()

    def holding_role_at(self, role: str, establishment_ids: Iterable[int]) -> UserQuerySet:
        return self.get_queryset().holding_role_at(role, establishment_ids)

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

    def holding(self, user: User, *roles: str) -> AssignmentQuerySet:
        """``user``'s assignments in one of ``roles``: with ``current()``, the one place a
        role held this school year is looked up (``managed_by``, ``permissions``)."""
        return self.filter(user=user, role__in=roles)


class Assignment(models.Model):
    """A role held by a person in an establishment for one school year."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("compte")
    )
    establishment = models.ForeignKey(
        Establishment,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("établissement"),
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

    parent = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="guardianships", verbose_name=_("parent")
    )
    pupil = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="guardians", verbose_name=_("élève")
    )

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

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="one_time_codes", verbose_name=_("compte")
    )
    purpose = models.CharField(_("usage"), max_length=16, choices=OneTimeCodePurpose.choices)
    # The e-mail address or phone number the code was sent to (confirmations, SMS resets).
    target = models.CharField(_("destinataire"), max_length=254, blank=True)
    digest = models.CharField(_("empreinte"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    expires_at = models.DateTimeField(_("expire le"))
    used_at = models.DateTimeField(_("utilisé le"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("essais manqués"), default=0)
    created_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("créé par"),
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
