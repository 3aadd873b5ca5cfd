"""A second factor's removal waiting for a second DSI (four-eyes), for protected accounts."""

from __future__ import annotations

import datetime
from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convergence.accounts.models import User


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
        db_table = "accounts_secondfactorresetrequest"
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
