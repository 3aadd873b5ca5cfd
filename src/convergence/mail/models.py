"""The webmail keeps no mail: only what a person decided about their mail access.

* ``AppPassword`` — one per phone or mail client, valid for IMAP, SMTP submission and
  ManageSieve only (never the portal). The secret is random (about 100 bits), shown once and
  stored as a keyed SHA-256 digest: a digest of a random secret cannot be reversed by
  guessing, so the mail server's check is one indexed lookup, the same time for every answer.
* ``TrustedSender`` — a sender whose remote images this person chose to load.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Device(models.TextChoices):
    IPHONE = "iphone", _("iPhone ou iPad")
    ANDROID = "android", _("Téléphone Android")
    THUNDERBIRD = "thunderbird", _("Thunderbird")
    OUTLOOK = "outlook", _("Outlook")
    OTHER = "other", _("Autre logiciel de messagerie")


class Protocol(models.TextChoices):
    IMAP = "imap", "IMAP"
    SMTP = "smtp", "SMTP"
    SIEVE = "sieve", "ManageSieve"


class AppPasswordQuerySet(models.QuerySet["AppPassword"]):
    def active(self) -> AppPasswordQuerySet:
        return self.filter(revoked_at__isnull=True)

    def of(self, user: Any) -> AppPasswordQuerySet:
        return self.filter(user=user)


class AppPassword(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="app_passwords",
        verbose_name=_("personne"),
    )
    label = models.CharField(_("appareil"), max_length=60)
    device = models.CharField(_("type d'appareil"), max_length=16, choices=Device.choices)
    digest = models.CharField(_("empreinte"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    last_used_place = models.CharField(_("lieu approximatif"), max_length=80, blank=True)
    last_used_protocol = models.CharField(
        _("protocole"), max_length=8, choices=Protocol.choices, blank=True
    )
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    objects = AppPasswordQuerySet.as_manager()

    class Meta:
        verbose_name = _("mot de passe d'application")
        verbose_name_plural = _("mots de passe d'application")
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["user", "revoked_at"], name="mail_apppw_user_live")]
        constraints = [
            models.CheckConstraint(condition=~Q(label=""), name="mail_apppw_label_not_empty")
        ]

    def __str__(self) -> str:
        return self.label


class TrustedSender(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="trusted_senders",
        verbose_name=_("personne"),
    )
    address = models.EmailField(_("adresse de l'expéditeur"), max_length=254)
    created_at = models.DateTimeField(_("ajouté le"), default=timezone.now)

    class Meta:
        verbose_name = _("expéditeur de confiance")
        verbose_name_plural = _("expéditeurs de confiance")
        constraints = [
            models.UniqueConstraint(fields=["user", "address"], name="mail_trusted_sender_once")
        ]

    def __str__(self) -> str:
        return self.address


class Signature(models.Model):
    """The text added under the messages a person writes (one per person: their académie
    address is their one identity)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="mail_signature",
        verbose_name=_("personne"),
    )
    text = models.TextField(_("signature"), max_length=1000, blank=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("signature des messages")
        verbose_name_plural = _("signatures des messages")

    def __str__(self) -> str:
        return self.text[:40]
