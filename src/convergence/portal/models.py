"""The services catalogue: tiles, who may see them, and each person's favourites."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import Assignment, Role, current_school_year
from convergence.core import search
from convergence.core.models import Department, Establishment
from convergence.core.queries import CompiledQuery

if TYPE_CHECKING:
    from convergence.accounts.models import User


class Category(models.TextChoices):
    COMMUNICATION = "communication", _("Communication")
    SCOLARITE = "scolarite", _("Scolarité et vie scolaire")
    PEDAGOGIE = "pedagogie", _("Pédagogie")
    GESTION = "gestion", _("Gestion et administration")
    FORMATION = "formation", _("Formation")
    ASSISTANCE = "assistance", _("Assistance")


# What decides which services a person sees: their (role, establishment, department) this
# school year. Everyone with the same audience sees the same catalogue.
Audience = tuple[tuple[str, int | None, int | None], ...]


# Read on every dashboard view: compiled once (core.queries), then only executed.
_AUDIENCE = CompiledQuery(
    lambda user_pk, year: Assignment.objects.filter(user_id=user_pk, school_year=year).values_list(
        "role", "establishment_id", "establishment__department_id"
    ),
    -7_654_321,
    "\x00year\x00",
)


def audience_of(user: User) -> Audience:
    """``user``'s audience this school year, in one indexed query (sorted: equal audiences
    compare equal)."""
    rows = _AUDIENCE.rows(user.pk, current_school_year())
    return tuple(
        sorted(
            {(str(role), establishment, department) for role, establishment, department in rows},
            key=lambda row: (row[0], row[1] or 0, row[2] or 0),
        )
    )


class ServiceQuerySet(models.QuerySet["Service"]):
    def published(self) -> ServiceQuerySet:
        return self.filter(is_published=True)

    def visible_to(self, user: User) -> ServiceQuerySet:
        """Published services meant for everyone or matching one of the user's assignments
        this school year (role, department and establishment of the same assignment)."""
        if not user.is_authenticated:
            return self.none()
        return self.for_audience(audience_of(user))

    def for_audience(self, audience: Audience) -> ServiceQuerySet:
        """Published services meant for everyone or matching one of ``audience``'s
        (role, establishment, department) triples."""
        matches = Q(pk__in=[])
        for role, establishment_id, department_id in audience:
            matches |= (
                (Q(role="") | Q(role=role))
                & (Q(establishment__isnull=True) | Q(establishment_id=establishment_id))
                & (Q(department__isnull=True) | Q(department_id=department_id))
            )
        rule_matches = AudienceRule.objects.filter(matches, service=OuterRef("pk"))
        return self.published().filter(Q(for_everyone=True) | Exists(rule_matches))


icon_validator = RegexValidator(
    r"^fr-icon-[a-z0-9-]+$", _("Une icône DSFR s'écrit fr-icon-…, par exemple fr-icon-mail-line.")
)


class Service(models.Model):
    """A tile of the catalogue: one academic or partner service."""

    name = models.CharField(_("nom"), max_length=80)
    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    description = models.CharField(_("description"), max_length=240)
    keywords = models.CharField(
        _("mots-clés"),
        max_length=300,
        blank=True,
        help_text=_(
            "Les mots que les gens tapent pour trouver ce service, séparés par des virgules : "
            "mail, courriel, webmail. Les accents, majuscules et pluriels sont ignorés."
        ),
    )
    url = models.URLField(_("adresse"), max_length=500)
    category = models.CharField(_("catégorie"), max_length=16, choices=Category.choices)
    icon = models.CharField(
        _("icône"), max_length=60, default="fr-icon-external-link-line", validators=[icon_validator]
    )
    is_external = models.BooleanField(
        _("site externe"),
        default=False,
        help_text=_("Le service est hébergé hors des domaines officiels de l'académie."),
    )
    for_everyone = models.BooleanField(
        _("visible par tous"),
        default=False,
        help_text=_("Sinon, seules les personnes correspondant à une règle d'audience le voient."),
    )
    is_published = models.BooleanField(_("publié"), default=True)
    # Step-up: opening the service asks for a second factor if the session has none.
    mfa_required = models.BooleanField(_("service sensible (second facteur exigé)"), default=False)
    # Arena-like intranet apps: a second factor is required from outside the trusted networks.
    mfa_outside_trusted_networks = models.BooleanField(
        _("second facteur hors du réseau académique"), default=False
    )
    position = models.PositiveSmallIntegerField(_("ordre"), default=100)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(category__in=Category.values), name="service_category_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def search_terms(self) -> tuple[list[str], list[str], list[str]]:
        """The words search compares (``core.search.terms``): of the name, of the keywords
        and of the description. Not the category: "vie scolaire" would find every tile of
        "Scolarité et vie scolaire"."""
        return (
            search.terms(self.name),
            search.terms(self.keywords),
            search.terms(self.description),
        )


class AudienceRule(models.Model):
    """Who sees a service: every field set must match one assignment (blank = any)."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="audience_rules")
    role = models.CharField(_("rôle"), max_length=16, choices=Role.choices, blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("département")
    )
    establishment = models.ForeignKey(
        Establishment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("établissement"),
    )

    class Meta:
        verbose_name = _("règle d'audience")
        verbose_name_plural = _("règles d'audience")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(role="") | models.Q(role__in=Role.values),
                name="audience_rule_role_valid",
            ),
            models.UniqueConstraint(
                fields=["service", "role", "department", "establishment"],
                name="audience_rule_unique",
            ),
        ]

    def __str__(self) -> str:
        parts = [
            str(self.get_role_display()) if self.role else str(_("tout rôle")),
            str(self.department) if self.department_id else "",
            str(self.establishment) if self.establishment_id else "",
        ]
        return " · ".join(part for part in parts if part)


class FavouriteQuerySet(models.QuerySet["Favourite"]):
    def of(self, user: User, visible: ServiceQuerySet | None = None) -> FavouriteQuerySet:
        """The user's favourites still visible to them, in their chosen order.

        ``visible`` is ``Service.objects.visible_to(user)`` when the caller already has it.
        """
        if visible is None:
            visible = Service.objects.visible_to(user)
        return (
            self.filter(user=user, service__in=visible)
            .select_related("service")
            .order_by("position", "pk")
        )


class Favourite(models.Model):
    """A service a person pinned to the top of their dashboard."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="favourites",
        verbose_name=_("compte"),
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)

    objects = FavouriteQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("favori")
        verbose_name_plural = _("favoris")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "service"], name="favourite_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} ★ {self.service}"
