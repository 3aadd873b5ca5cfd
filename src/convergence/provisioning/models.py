"""Background jobs of provisioning: batches of activation letters and CSV imports."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import User
from convergence.accounts.permissions import is_dsi
from convergence.core.models import Establishment


class JobState(models.TextChoices):
    PENDING = "pending", _("En attente")
    RUNNING = "running", _("En cours")
    DONE = "done", _("Terminé")
    FAILED = "failed", _("Échec")


class LetterAudience(models.TextChoices):
    ELEVES = "eleves", _("Élèves")
    PARENTS = "parents", _("Parents")
    PERSONNELS = "personnels", _("Personnels")


class LetterBatchQuerySet(models.QuerySet["LetterBatch"]):
    def visible_to(self, actor: User) -> LetterBatchQuerySet:
        """Batches ``actor`` may see: a DSI all, anyone else only the ones they requested."""
        batches = self.select_related("establishment", "requested_by")
        return batches if is_dsi(actor) else batches.filter(requested_by=actor)


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

    objects = LetterBatchQuerySet.as_manager()

    class Meta:
        db_table = "accounts_letterbatch"
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
        db_table = "accounts_importjob"
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
