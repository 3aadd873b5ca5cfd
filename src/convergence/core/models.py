"""The académie and its map: departments and establishments identified by their UAI."""

from __future__ import annotations

import ipaddress
import logging
from typing import ClassVar

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from convergence.core.uai import department_code_of, normalise_uai, validate_uai

ACADEMIE_CACHE_KEY = "core:academie"

logger = logging.getLogger(__name__)


def validate_networks(value: str) -> None:
    """Each non-empty line must be an IPv4 or IPv6 network in CIDR notation."""
    for number, line in enumerate(value.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            ipaddress.ip_network(line, strict=False)
        except ValueError as error:
            raise ValidationError(
                gettext("Ligne %(number)d : « %(line)s » n'est pas un réseau valide.")
                % {"number": number, "line": line}
            ) from error


class AccessibilityStatus(models.TextChoices):
    """The three states of the RGAA (the words the footer and the statement show)."""

    FULL = "full", _("totalement conforme")
    PARTIAL = "partial", _("partiellement conforme")
    NONE = "none", _("non conforme")


class Academie(models.Model):
    """The one académie this portal serves, with the branding an administrator edits."""

    name = models.CharField(_("nom"), max_length=120)
    short_name = models.CharField(_("nom court"), max_length=60, blank=True)
    official_host = models.CharField(
        _("adresse officielle du portail"),
        max_length=255,
        help_text=_("Nom d'hôte (et port éventuel) sous lequel le portail est servi."),
    )
    mail_domain = models.CharField(_("domaine de messagerie"), max_length=255)
    logo = models.FileField(
        _("logo"),
        upload_to="branding/",
        blank=True,
        validators=[FileExtensionValidator(["svg", "png"])],
    )
    trusted_networks = models.TextField(
        _("réseaux de confiance"),
        blank=True,
        validators=[validate_networks],
        help_text=_("Un réseau par ligne, en notation CIDR (ex. 10.25.0.0/16)."),
    )
    # What the public pages owe (mentions légales, données personnelles, accessibilité):
    # blank until the académie fills them in; the pages then say "non renseigné".
    postal_address = models.TextField(_("adresse postale"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    publication_director = models.CharField(
        _("directeur ou directrice de la publication"),
        max_length=200,
        blank=True,
        help_text=_("En général le recteur ou la rectrice de l'académie (nom et qualité)."),
    )
    hosting_provider = models.TextField(
        _("hébergeur"),
        blank=True,
        help_text=_("Nom, adresse et téléphone de l'hébergeur du portail."),
    )
    dpo_name = models.CharField(
        _("délégué à la protection des données"),
        max_length=200,
        blank=True,
        help_text=_("Nom ou fonction du délégué (DPD, en anglais DPO)."),
    )
    dpo_email = models.EmailField(_("adresse électronique du délégué"), blank=True)
    dpo_postal_address = models.TextField(_("adresse postale du délégué"), blank=True)
    accessibility_status = models.CharField(
        _("état de conformité au RGAA"),
        max_length=8,
        choices=AccessibilityStatus.choices,
        default=AccessibilityStatus.PARTIAL,
    )
    accessibility_statement_date = models.DateField(
        _("date de la déclaration d'accessibilité"), null=True, blank=True
    )
    accessibility_evaluation = models.TextField(
        _("résultats de l'évaluation d'accessibilité"),
        blank=True,
        help_text=_(
            "Qui a évalué le portail, quand, avec quelle méthode, et le taux de critères "
            "respectés (laisser vide tant qu'aucun audit n'a été fait)."
        ),
    )
    accessibility_plan_url = models.URLField(
        _("schéma pluriannuel de mise en accessibilité"), blank=True
    )
    accessibility_email = models.EmailField(
        _("adresse pour signaler un défaut d'accessibilité"), blank=True
    )
    singleton = models.BooleanField(default=True, editable=False)

    class Meta:
        verbose_name = _("académie")
        verbose_name_plural = _("académie")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["singleton"], name="academie_single_row"),
            models.CheckConstraint(condition=models.Q(singleton=True), name="academie_singleton"),
            models.CheckConstraint(
                condition=models.Q(accessibility_status__in=AccessibilityStatus.values),
                name="academie_accessibility_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        cache.delete(ACADEMIE_CACHE_KEY)

    @classmethod
    def current(cls) -> Academie:
        """The académie row, cached; an unsaved one built from settings before set-up.

        With the cache unreachable it is read from the database: every page shows it, and the
        503 that the rate limits answer when that same cache is down must still render.
        """
        from django.conf import settings

        try:
            academie: Academie | None = cache.get(ACADEMIE_CACHE_KEY)
            reachable = True
        except Exception:  # the cache backend's own errors (Redis down, …)
            logger.warning("Cache unreachable: the académie is read from the database.")
            academie, reachable = None, False
        if academie is None:
            academie = cls.objects.first() or cls(
                name=settings.ACADEMIE_NAME,
                official_host=settings.OFFICIAL_HOST,
                mail_domain=settings.MAIL_DOMAIN,
            )
            if academie.pk and reachable:
                cache.set(ACADEMIE_CACHE_KEY, academie, 300)
        return academie

    def is_trusted_address(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        for line in self.trusted_networks.splitlines():
            line = line.strip()
            if line and not line.startswith("#") and ip in ipaddress.ip_network(line, strict=False):
                return True
        return False


class Department(models.Model):
    """A département of the académie (25 Doubs, 39 Jura, 70 Haute-Saône, 90 Belfort)."""

    code = models.CharField(_("code"), max_length=3, unique=True)
    name = models.CharField(_("nom"), max_length=80)

    class Meta:
        ordering = ["code"]
        verbose_name = _("département")
        verbose_name_plural = _("départements")

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class EstablishmentKind(models.TextChoices):
    ECOLE = "ecole", _("école")
    COLLEGE = "college", _("collège")
    LYCEE = "lycee", _("lycée")
    LYCEE_PRO = "lycee_pro", _("lycée professionnel")
    EREA = "erea", _("EREA")
    SERVICE = "service", _("service académique")


class Establishment(models.Model):
    """A school or an academic service, identified by its UAI."""

    uai = models.CharField(_("UAI"), max_length=8, unique=True, validators=[validate_uai])
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=12, choices=EstablishmentKind.choices)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="establishments",
        verbose_name=_("département"),
    )
    city = models.CharField(_("commune"), max_length=120, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("établissement")
        verbose_name_plural = _("établissements")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=models.Q(uai__regex=r"^[0-9]{7}[A-Z]$"), name="establishment_uai_shape"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=EstablishmentKind.values),
                name="establishment_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.uai})"

    def clean(self) -> None:
        self.uai = normalise_uai(self.uai)
        if self.department_id and self.uai[:3].isdigit():
            expected = department_code_of(self.uai)
            if self.department.code != expected:
                raise ValidationError(
                    {
                        "department": gettext(
                            "Le code UAI %(uai)s désigne le département %(expected)s, "
                            "pas le %(given)s."
                        )
                        % {"uai": self.uai, "expected": expected, "given": self.department.code}
                    }
                )


class ScheduledJob(models.Model):
    """When a job of the schedule (``core.schedule``) last started and finished; its claim."""

    name = models.CharField(_("nom"), max_length=100, unique=True)
    last_started_at = models.DateTimeField(_("dernier lancement"), null=True, blank=True)
    last_finished_at = models.DateTimeField(_("dernière fin"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tâche planifiée")
        verbose_name_plural = _("tâches planifiées")

    def __str__(self) -> str:
        return self.name
