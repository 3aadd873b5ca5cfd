"""The development SMS outbox: what would have been sent, visible in the administration."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
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
        return f"{self.to} {self.sent_at:%Y-%m-%d %H:%M}"
