"""The services catalogue: tiles, who may see them, and each person's favourites."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import Assignment, Role, current_school_year
from convergence.accounts.permissions import announcement_establishments, is_rectorat
from convergence.core import search
from convergence.core.models import Department, Establishment
from convergence.core.queries import CompiledQuery
from convergence.portal.announcement_files import announcement_storage

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


# --- Announcements (docs/announcements.md) ---------------------------------------------------


class AnnouncementState(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SCHEDULED = "scheduled", _("Programmée")
    PUBLISHED = "published", _("Publiée")
    WITHDRAWN = "withdrawn", _("Retirée")


# States in which the text and audience may still change.
EDITABLE_STATES = frozenset({AnnouncementState.DRAFT, AnnouncementState.SCHEDULED})


class AnnouncementQuerySet(models.QuerySet["Announcement"]):
    def current(self, *, now: datetime.datetime | None = None) -> AnnouncementQuerySet:
        """Published, already out and not expired (nor withdrawn)."""
        moment = now or timezone.now()
        return self.filter(state=AnnouncementState.PUBLISHED, publish_at__lte=moment).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=moment)
        )

    def received_by(
        self, user: User, *, now: datetime.datetime | None = None
    ) -> AnnouncementQuerySet:
        """The current announcements ``user`` is a recipient of."""
        return self.current(now=now).filter(recipients__person=user)

    def manageable_by(self, user: User) -> AnnouncementQuerySet:
        """Announcements ``user`` may edit, publish, withdraw and follow: their own, those of
        an establishment they may address (its direction, the rectorat), and académie-wide
        ones for the rectorat."""
        if not getattr(user, "is_active", False):
            return self.none()
        reach = Q(author=user) | Q(establishment__in=announcement_establishments(user))
        if is_rectorat(user):
            reach |= Q(establishment__isnull=True)
        return self.filter(reach)


class Announcement(models.Model):
    """A message of the direction or the rectorat to an audience, with its publication
    window and, optionally, an acknowledgement asked of each recipient."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("auteur"),
    )
    title = models.CharField(_("titre"), max_length=150)
    # What the author typed (Markdown-light) and the sanitised HTML shown to recipients.
    body_source = models.TextField(_("texte"), max_length=10_000)
    body_html = models.TextField(_("texte mis en forme"), editable=False)
    # Null: académie-wide, written by the rectorat.
    establishment = models.ForeignKey(
        Establishment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("établissement"),
    )
    departments = models.ManyToManyField(
        Department, blank=True, related_name="+", verbose_name=_("départements")
    )
    everyone = models.BooleanField(_("toute l'académie"), default=False)
    # Role values (accounts.Role); empty: every role.
    roles = models.JSONField(_("profils"), default=list, blank=True)
    # Divisions of ``establishment`` (its pupils, and their parents); empty: every class.
    divisions = models.JSONField(_("classes"), default=list, blank=True)
    publish_at = models.DateTimeField(_("publication le"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expire le"), null=True, blank=True)
    requires_ack = models.BooleanField(_("accusé de lecture demandé"), default=False)
    state = models.CharField(
        _("état"),
        max_length=10,
        choices=AnnouncementState.choices,
        default=AnnouncementState.DRAFT,
    )
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)
    updated_at = models.DateTimeField(_("modifiée le"), default=timezone.now)
    withdrawn_at = models.DateTimeField(_("retirée le"), null=True, blank=True)
    # The fan-out's claim and heartbeat (announcement_actions.fan_out_announcement).
    fanout_started_at = models.DateTimeField(_("envoi commencé le"), null=True, blank=True)
    fanned_out_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    recipients_count = models.PositiveIntegerField(_("destinataires"), default=0)

    objects = AnnouncementQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("annonce")
        verbose_name_plural = _("annonces")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(state__in=AnnouncementState.values), name="announcement_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True)
                | Q(publish_at__isnull=True)
                | Q(expires_at__gt=models.F("publish_at")),
                name="announcement_expires_after_publish",
            ),
            models.CheckConstraint(
                condition=Q(state=AnnouncementState.DRAFT) | Q(publish_at__isnull=False),
                name="announcement_publish_at_once_out",
            ),
            models.CheckConstraint(
                condition=Q(everyone=False) | Q(establishment__isnull=True),
                name="announcement_everyone_is_academie_wide",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["state", "publish_at"], name="announcement_state_publish"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    @property
    def is_sending(self) -> bool:
        """Published and its recipients still being written (« Envoi en cours »)."""
        return self.state == AnnouncementState.PUBLISHED and self.fanned_out_at is None


class AnnouncementAttachment(models.Model):
    """A file joined to an announcement, kept outside MEDIA_ROOT and handed out only to its
    recipients and managers (portal/announcement_files.py)."""

    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(
        _("fichier"), upload_to="announcements/%Y/%m/", storage=announcement_storage, max_length=200
    )
    name = models.CharField(_("nom d'origine"), max_length=120)
    size = models.PositiveIntegerField(_("taille"))
    content_type = models.CharField(_("type"), max_length=100)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("pièce jointe d'annonce")
        verbose_name_plural = _("pièces jointes d'annonces")

    def __str__(self) -> str:
        return self.name


class AnnouncementRecipient(models.Model):
    """A person an announcement was sent to, and when they acknowledged it (« J'ai lu »)."""

    announcement = models.ForeignKey(
        Announcement, on_delete=models.CASCADE, related_name="recipients"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="announcement_receipts",
        verbose_name=_("destinataire"),
    )
    acknowledged_at = models.DateTimeField(_("lu le"), null=True, blank=True)

    class Meta:
        verbose_name = _("destinataire d'annonce")
        verbose_name_plural = _("destinataires d'annonces")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["announcement", "person"], name="announcement_recipient_unique"
            ),
        ]
        indexes: ClassVar = [
            # The acknowledgement page: who did (not) acknowledge one announcement.
            models.Index(
                fields=["announcement", "acknowledged_at"], name="announcement_recipient_ack"
            ),
            models.Index(fields=["person", "announcement"], name="announcement_recipient_person"),
        ]

    def __str__(self) -> str:
        return f"{self.announcement_id} → {self.person_id}"
