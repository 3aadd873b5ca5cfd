"""The append-only audit trail: who did what, when (UTC), from where. No secrets, ever."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from convergence.audit import events


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def for_user(self, user: Any) -> AuditEventQuerySet:
        """Events where the user acted or was acted upon, newest first."""
        return self.filter(models.Q(actor=user) | models.Q(subject=user)).order_by("-occurred_at")

    def of_type(self, *event_types: events.EventType) -> AuditEventQuerySet:
        return self.filter(event_type__in=[t.code for t in event_types])


class AuditEvent(models.Model):
    """One security-relevant event. Rows are inserted, never updated."""

    occurred_at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)
    event_type = models.CharField(_("événement"), max_length=64, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("auteur"),
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("compte concerné"),
    )
    # An identifier typed at sign-in that matches no account is kept only as a keyed digest:
    # people type passwords into the identifier field, and those must never be stored.
    identifier_digest = models.CharField(_("empreinte de l'identifiant"), max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(_("adresse IP"), null=True, blank=True)
    user_agent = models.CharField(_("navigateur"), max_length=300, blank=True)
    data = models.JSONField(_("détails"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("événement d'audit")
        verbose_name_plural = _("journal d'audit")
        indexes: ClassVar = [
            models.Index(fields=["subject", "-occurred_at"], name="audit_subject_recent"),
        ]

    def __str__(self) -> str:
        when = formats.date_format(timezone.localtime(self.occurred_at), "DATETIME_FORMAT")
        return f"{when} {self.event_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    @property
    def label(self) -> str:
        event_type = events.get(self.event_type)
        return str(event_type.label) if event_type else self.event_type
