"""What the outbox keeps: the development SMS outbox (what would have been sent, visible in the
administration) and the e-mails waiting for the mail server to take them."""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _


class SmsMessage(models.Model):
    """The development SMS outbox (settings.SMS_BACKEND = outbox): what would have been sent."""

    to = models.CharField(_("destinataire"), max_length=20)
    body = models.TextField(_("texte"))
    sent_at = models.DateTimeField(_("envoyé le"), default=timezone.now)

    class Meta:
        db_table = "accounts_smsmessage"
        ordering = ["-sent_at"]
        verbose_name = _("SMS (boîte d'envoi de développement)")
        verbose_name_plural = _("SMS (boîte d'envoi de développement)")

    def __str__(self) -> str:
        return (
            f"{self.to} {formats.date_format(timezone.localtime(self.sent_at), 'DATETIME_FORMAT')}"
        )


class PendingMailState(models.TextChoices):
    PENDING = "pending", _("en attente")
    ABANDONED = "abandoned", _("abandonné")


class PendingMailQuerySet(models.QuerySet["PendingMail"]):
    def due(self, now: datetime.datetime) -> PendingMailQuerySet:
        """Messages waiting to be sent whose next try has come (``now`` included)."""
        return self.filter(state=PendingMailState.PENDING, next_attempt_at__lte=now)

    def addressed_to(self, *addresses: str) -> PendingMailQuerySet:
        """Messages to any of ``addresses`` (case-insensitive; blanks ignored)."""
        wanted = Q()
        for address in {address.strip() for address in addresses if address and address.strip()}:
            wanted |= Q(recipient__iexact=address)
        return self.filter(wanted) if wanted else self.none()


class PendingMail(models.Model):
    """An e-mail the mail server could not take yet, kept to be tried again
    (``outbox.actions.deliver_pending``); deleted once sent, as it may hold a link."""

    recipient = models.EmailField(_("destinataire"), max_length=254)
    # RFC 5322 caps a header line at 998 characters; rendered subjects are one line.
    subject = models.CharField(_("objet"), max_length=998)
    body = models.TextField(_("texte"))
    template = models.CharField(_("modèle"), max_length=200)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("tentatives"), default=0)
    next_attempt_at = models.DateTimeField(_("prochaine tentative"), db_index=True)
    last_error = models.CharField(_("dernière erreur"), max_length=200, blank=True)
    state = models.CharField(
        _("état"),
        max_length=10,
        choices=PendingMailState.choices,
        default=PendingMailState.PENDING,
    )

    objects = PendingMailQuerySet.as_manager()

    class Meta:
        ordering = ["next_attempt_at", "id"]
        verbose_name = _("courriel en attente")
        verbose_name_plural = _("courriels en attente")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=PendingMailState.values), name="pendingmail_state"
            ),
        ]

    def __str__(self) -> str:
        # No address: this string reaches the admin's history and the audit trail.
        return f"{self.template} #{self.pk}"
