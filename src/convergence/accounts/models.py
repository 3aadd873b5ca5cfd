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
    return school_year_of(timezone.localdate())


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


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

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
