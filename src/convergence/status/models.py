"""Service status: probes and their results, incidents, maintenance windows, the school
calendar's busy periods and people's subscriptions.

A probe's own row carries its running state (consecutive failures and successes, the state
it settled on): the worker updates it after each check, so deciding whether a service is
down never reads the history. Raw results are kept seven days, hourly aggregates ninety.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convergence.portal.models import Service


class State(models.TextChoices):
    """What a person is told about a service, from best to worst (``SEVERITY``)."""

    OPERATIONAL = "operationnel", _("Opérationnel")
    DEGRADED = "perturbe", _("Perturbé")
    DOWN = "indisponible", _("Indisponible")
    MAINTENANCE = "maintenance", _("En maintenance")
    UNKNOWN = "inconnu", _("État inconnu")


SEVERITY = {
    State.OPERATIONAL: 0,
    State.UNKNOWN: 1,
    State.MAINTENANCE: 2,
    State.DEGRADED: 3,
    State.DOWN: 4,
}


class ProbeKind(models.TextChoices):
    HTTP = "http", _("HTTP(S)")
    TCP = "tcp", _("TCP")
    IMAP = "imap", _("IMAP (accueil du serveur)")
    SMTP = "smtp", _("SMTP (accueil du serveur)")


class ProbeState(models.TextChoices):
    """Where a probe settled, after flap damping: ``down_after`` failures in a row to go
    down, ``up_after`` successes in a row to come back."""

    UNKNOWN = "unknown", _("pas encore mesuré")
    UP = "up", _("répond")
    SLOW = "slow", _("répond lentement")
    DOWN = "down", _("ne répond pas")


# A probe's running state: written by the worker after each check (``status.probing``), read
# only in the administration.
PROBE_RUNNING_FIELDS = (
    "state",
    "state_since",
    "consecutive_failures",
    "consecutive_successes",
    "consecutive_slow",
    "last_checked_at",
    "next_check_at",
    "last_response_ms",
    "last_error",
    "certificate_expires_at",
)


class ProbeQuerySet(models.QuerySet["Probe"]):
    def enabled(self) -> ProbeQuerySet:
        return self.filter(is_enabled=True, service__is_published=True)

    def due(self, now: dt.datetime) -> ProbeQuerySet:
        """Enabled probes whose next check is at or before ``now`` (never checked: due)."""
        return self.enabled().filter(Q(next_check_at__isnull=True) | Q(next_check_at__lte=now))


class Probe(models.Model):
    """One check of a service, run by the worker every ``interval_seconds``."""

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="probes", verbose_name=_("service")
    )
    name = models.CharField(
        _("nom"), max_length=80, help_text=_("Repère stable du blueprint, par exemple « web ».")
    )
    kind = models.CharField(_("type"), max_length=8, choices=ProbeKind.choices)
    target = models.CharField(
        _("cible"),
        max_length=300,
        help_text=_(
            "Une adresse https://… pour HTTP(S), « hôte:port » pour TCP, IMAP et SMTP "
            "(imaps:// ou smtps:// pour une connexion chiffrée d'emblée)."
        ),
    )
    expected_status = models.PositiveSmallIntegerField(_("code HTTP attendu"), default=200)
    keyword = models.CharField(
        _("texte attendu dans la page"), max_length=120, blank=True, help_text=_("Facultatif.")
    )
    certificate_warning_days = models.PositiveSmallIntegerField(
        _("alerte d'expiration du certificat (jours)"), default=14
    )
    interval_seconds = models.PositiveIntegerField(_("intervalle (secondes)"), default=60)
    timeout_seconds = models.FloatField(_("délai maximal (secondes)"), default=5.0)
    retries = models.PositiveSmallIntegerField(
        _("nouvelles tentatives"), default=1, help_text=_("Avant de compter un échec.")
    )
    down_after = models.PositiveSmallIntegerField(
        _("échecs consécutifs avant « indisponible »"), default=3
    )
    up_after = models.PositiveSmallIntegerField(
        _("succès consécutifs avant « opérationnel »"), default=2
    )
    slow_ms = models.PositiveIntegerField(
        _("seuil de lenteur (ms)"),
        default=3000,
        help_text=_("Au-delà, le service est dit « perturbé »."),
    )
    is_enabled = models.BooleanField(_("active"), default=True)

    # The running state, written by the worker only (``status.probing``).
    state = models.CharField(
        _("état"), max_length=8, choices=ProbeState.choices, default=ProbeState.UNKNOWN
    )
    state_since = models.DateTimeField(_("depuis"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("échecs consécutifs"), default=0)
    consecutive_successes = models.PositiveIntegerField(_("succès consécutifs"), default=0)
    consecutive_slow = models.PositiveIntegerField(_("réponses lentes consécutives"), default=0)
    last_checked_at = models.DateTimeField(_("dernière mesure"), null=True, blank=True)
    next_check_at = models.DateTimeField(
        _("prochaine mesure"), null=True, blank=True, db_index=True
    )
    last_error = models.CharField(_("dernière erreur"), max_length=200, blank=True)
    last_response_ms = models.PositiveIntegerField(
        _("dernier temps de réponse (ms)"), null=True, blank=True
    )
    certificate_expires_at = models.DateTimeField(
        _("expiration du certificat"), null=True, blank=True
    )

    objects = ProbeQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["service__position", "service__name", "name"]
        verbose_name = _("sonde")
        verbose_name_plural = _("sondes")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["service", "name"], name="probe_unique_name"),
            models.CheckConstraint(condition=Q(kind__in=ProbeKind.values), name="probe_kind_valid"),
            models.CheckConstraint(
                condition=Q(interval_seconds__gte=10), name="probe_interval_at_least_10s"
            ),
            models.CheckConstraint(
                condition=Q(timeout_seconds__gt=0) & Q(timeout_seconds__lte=60),
                name="probe_timeout_bounded",
            ),
            models.CheckConstraint(
                condition=Q(down_after__gte=1) & Q(up_after__gte=1), name="probe_damping_positive"
            ),
            models.CheckConstraint(condition=Q(retries__lte=5), name="probe_retries_bounded"),
        ]

    def __str__(self) -> str:
        return f"{self.service.name} — {self.name}"

    def certificate_expires_soon(self, now: dt.datetime | None = None) -> bool:
        if self.certificate_expires_at is None:
            return False
        limit = (now or timezone.now()) + dt.timedelta(days=self.certificate_warning_days)
        return self.certificate_expires_at <= limit


class ProbeResultQuerySet(models.QuerySet["ProbeResult"]):
    def older_than(self, moment: dt.datetime) -> ProbeResultQuerySet:
        return self.filter(checked_at__lt=moment)


class ProbeResult(models.Model):
    """One check, kept raw for ``STATUS_RAW_RETENTION_DAYS``."""

    probe = models.ForeignKey(
        Probe, on_delete=models.CASCADE, related_name="results", verbose_name=_("sonde")
    )
    checked_at = models.DateTimeField(_("mesuré le"))
    ok = models.BooleanField(_("réussie"))
    response_ms = models.PositiveIntegerField(_("temps de réponse (ms)"), null=True, blank=True)
    error = models.CharField(_("erreur"), max_length=200, blank=True)
    # Made while a maintenance window covered the service: kept, but not counted in uptime.
    during_maintenance = models.BooleanField(_("pendant une maintenance"), default=False)

    objects = ProbeResultQuerySet.as_manager()

    class Meta:
        verbose_name = _("mesure")
        verbose_name_plural = _("mesures")
        indexes: ClassVar = [
            models.Index(fields=["probe", "checked_at"], name="status_result_probe_time"),
            models.Index(fields=["checked_at"], name="status_result_time"),
        ]

    def __str__(self) -> str:
        return f"{self.probe_id} {self.checked_at:%Y-%m-%d %H:%M:%S} {'ok' if self.ok else 'échec'}"


class HourlyStat(models.Model):
    """One probe's checks over one hour (UTC), kept ``STATUS_HOURLY_RETENTION_DAYS``."""

    probe = models.ForeignKey(
        Probe, on_delete=models.CASCADE, related_name="hourly", verbose_name=_("sonde")
    )
    hour = models.DateTimeField(_("heure"))
    checks = models.PositiveIntegerField(_("mesures"), default=0)
    failures = models.PositiveIntegerField(_("échecs"), default=0)
    total_ms = models.PositiveBigIntegerField(_("temps de réponse cumulé (ms)"), default=0)
    max_ms = models.PositiveIntegerField(_("temps de réponse maximal (ms)"), default=0)

    class Meta:
        verbose_name = _("bilan horaire d'une sonde")
        verbose_name_plural = _("bilans horaires des sondes")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["probe", "hour"], name="status_hourly_unique"),
            models.CheckConstraint(
                condition=Q(failures__lte=models.F("checks")), name="status_hourly_failures"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["hour"], name="status_hourly_hour")]

    def __str__(self) -> str:
        return f"{self.probe_id} {self.hour:%Y-%m-%d %H h}"


class Impact(models.TextChoices):
    DEGRADED = State.DEGRADED.value, _("Perturbé")
    DOWN = State.DOWN.value, _("Indisponible")


class Stage(models.TextChoices):
    INVESTIGATING = "enquete", _("Enquête en cours")
    IDENTIFIED = "cause", _("Cause identifiée")
    MONITORING = "surveillance", _("Surveillance")
    RESOLVED = "resolu", _("Résolu")


class IncidentQuerySet(models.QuerySet["Incident"]):
    def published(self) -> IncidentQuerySet:
        return self.filter(is_published=True)

    def unresolved(self) -> IncidentQuerySet:
        return self.filter(resolved_at__isnull=True)

    def drafts(self) -> IncidentQuerySet:
        return self.filter(is_published=False, resolved_at__isnull=True)

    def affecting(self, service: Service) -> IncidentQuerySet:
        return self.filter(services=service)


class Incident(models.Model):
    """Something wrong with one or more services. Opened by the worker as a draft (a probe
    went down) that the DSI confirms or rewords, or by the DSI directly."""

    title = models.CharField(_("titre"), max_length=160)
    impact = models.CharField(_("gravité"), max_length=12, choices=Impact.choices)
    services = models.ManyToManyField(
        Service, related_name="incidents", verbose_name=_("services concernés")
    )
    is_published = models.BooleanField(
        _("publié"), default=False, help_text=_("Un brouillon n'est vu que de la DSI.")
    )
    opened_automatically = models.BooleanField(_("ouvert par une sonde"), default=False)
    opened_at = models.DateTimeField(_("ouvert le"), default=timezone.now)
    resolved_at = models.DateTimeField(_("résolu le"), null=True, blank=True)
    postmortem = models.TextField(_("retour d'expérience"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("déclaré par"),
    )

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-opened_at"]
        verbose_name = _("incident de service")
        verbose_name_plural = _("incidents de service")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(impact__in=Impact.values), name="incident_impact_valid"
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=models.F("opened_at")),
                name="incident_resolved_after_opened",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def time_to_resolve(self) -> dt.timedelta | None:
        return None if self.resolved_at is None else self.resolved_at - self.opened_at


class IncidentUpdate(models.Model):
    """One French message on an incident, at a stage of its handling."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="updates", verbose_name=_("incident")
    )
    stage = models.CharField(_("étape"), max_length=12, choices=Stage.choices)
    message = models.TextField(_("texte"), max_length=4000)
    posted_at = models.DateTimeField(_("publié le"), default=timezone.now)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("auteur"),
    )

    class Meta:
        verbose_name = _("mise à jour d'incident")
        verbose_name_plural = _("mises à jour d'incidents")
        ordering: ClassVar = ["-posted_at", "-pk"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="update_stage_valid")
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} — {self.posted_at:%Y-%m-%d %H:%M}"


class MaintenanceQuerySet(models.QuerySet["Maintenance"]):
    def scheduled(self) -> MaintenanceQuerySet:
        return self.filter(cancelled_at__isnull=True)

    def active_at(self, moment: dt.datetime) -> MaintenanceQuerySet:
        return self.scheduled().filter(starts_at__lte=moment, ends_at__gt=moment)

    def upcoming(self, moment: dt.datetime) -> MaintenanceQuerySet:
        """Not over yet: in progress or to come."""
        return self.scheduled().filter(ends_at__gt=moment)


class Maintenance(models.Model):
    """A planned window during which services may not answer: announced ahead, shown as
    « en maintenance », and failing probes of its services open no incident."""

    title = models.CharField(_("titre"), max_length=160)
    message = models.TextField(_("texte"), max_length=4000)
    starts_at = models.DateTimeField(_("début"))
    ends_at = models.DateTimeField(_("fin"))
    services = models.ManyToManyField(
        Service, related_name="maintenances", verbose_name=_("services concernés")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("programmée par"),
    )
    created_at = models.DateTimeField(_("programmée le"), default=timezone.now)
    # Busy periods the window fell in, as the DSI was warned of them (kept for the record).
    peak_warnings = models.JSONField(_("périodes chargées signalées"), default=list, blank=True)
    cancelled_at = models.DateTimeField(_("annulée le"), null=True, blank=True)

    objects = MaintenanceQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["starts_at"]
        verbose_name = _("maintenance programmée")
        verbose_name_plural = _("maintenances programmées")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="maintenance_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.title


class PeakPeriod(models.Model):
    """A busy time of the school year: maintenance there asks for a second thought.

    Either a range of days (``starts_on`` … ``ends_on``, the whole day or between
    ``start_time`` and ``end_time`` each day) or every week on ``weekday`` between the two
    times (every Monday 7 h 30 to 9 h 30)."""

    name = models.CharField(_("nom"), max_length=120)
    starts_on = models.DateField(_("du"), null=True, blank=True)
    ends_on = models.DateField(_("au"), null=True, blank=True)
    weekday = models.PositiveSmallIntegerField(
        _("chaque semaine, le"),
        null=True,
        blank=True,
        choices=[
            (0, _("lundi")),
            (1, _("mardi")),
            (2, _("mercredi")),
            (3, _("jeudi")),
            (4, _("vendredi")),
            (5, _("samedi")),
            (6, _("dimanche")),
        ],
    )
    start_time = models.TimeField(_("de"), null=True, blank=True)
    end_time = models.TimeField(_("à"), null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["starts_on", "weekday", "start_time", "name"]
        verbose_name = _("période chargée")
        verbose_name_plural = _("périodes chargées du calendrier scolaire")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=(
                    Q(weekday__isnull=True, starts_on__isnull=False, ends_on__isnull=False)
                    & Q(ends_on__gte=models.F("starts_on"))
                )
                | Q(
                    weekday__isnull=False,
                    starts_on__isnull=True,
                    ends_on__isnull=True,
                    start_time__isnull=False,
                    end_time__isnull=False,
                ),
                name="peak_dates_or_weekly",
            ),
            models.CheckConstraint(
                condition=Q(start_time__isnull=True, end_time__isnull=True)
                | Q(start_time__isnull=False, end_time__gt=models.F("start_time")),
                name="peak_times_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    """A person told by e-mail of a service's incidents and maintenance windows."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="status_subscriptions",
        verbose_name=_("personne"),
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="subscriptions", verbose_name=_("service")
    )
    created_at = models.DateTimeField(_("depuis le"), default=timezone.now)

    class Meta:
        verbose_name = _("abonnement à l'état d'un service")
        verbose_name_plural = _("abonnements à l'état des services")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "service"], name="status_subscription_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.service_id}"
