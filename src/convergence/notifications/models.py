"""Notifications, and how each person wants to receive them.

* ``Notification`` — one thing told to one person: the centre always shows it; its e-mail
  plan (``email_state``, ``email_due_at``) is decided when it is created, from the person's
  preferences, and carried out by ``actions.deliver_due_mail`` and ``actions.send_digests``.
* ``Preference`` — a person's choice for one category on one channel; without a row, the
  defaults of ``preferences.py`` (per profile) apply.
* ``DeliverySettings`` — a person's quiet hours and e-mail mode (immediate or a daily
  digest at an hour); without a row, the defaults per profile.
* ``PushSubscription`` — one browser a person chose to receive notifications on (web push).
* ``VapidKey`` — the portal's own key pair signing web pushes, generated once.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convergence.core.notify import (
    BODY_LENGTH,
    KEY_LENGTH,
    TITLE_LENGTH,
    URL_LENGTH,
    Category,
    is_local_path,
)


def validate_local_path(value: str) -> None:
    if value and not is_local_path(value):
        raise ValidationError(_("Le lien doit être une adresse du portail (commençant par /)."))


class Channel(models.TextChoices):
    PORTAL = "portal", _("Portail")
    EMAIL = "email", _("Courriel")
    PUSH = "push", _("Notification sur l'appareil")


class EmailState(models.TextChoices):
    NONE = "none", _("Aucun courriel")
    WAITING = "waiting", _("Courriel en attente")
    DIGEST = "digest", _("Dans le prochain récapitulatif")
    SENT = "sent", _("Courriel envoyé")


class PushState(models.TextChoices):
    NONE = "none", _("Aucune notification sur l'appareil")
    WAITING = "waiting", _("Notification sur l'appareil en attente")
    SENT = "sent", _("Notification sur l'appareil envoyée")


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", _("Immédiatement")
    DIGEST = "digest", _("Un récapitulatif par jour")


class NotificationQuerySet(models.QuerySet["Notification"]):
    def of(self, user: Any) -> NotificationQuerySet:
        return self.filter(recipient=user)

    def unread(self) -> NotificationQuerySet:
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("destinataire"),
    )
    category = models.CharField(_("catégorie"), max_length=20, choices=Category.choices)
    title = models.CharField(_("titre"), max_length=TITLE_LENGTH)
    body = models.TextField(_("texte"), max_length=BODY_LENGTH, blank=True)
    url = models.CharField(
        _("lien"), max_length=URL_LENGTH, blank=True, validators=[validate_local_path]
    )
    key = models.CharField(_("clé d'unicité"), max_length=KEY_LENGTH, blank=True)
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)
    read_at = models.DateTimeField(_("lue le"), null=True, blank=True)
    email_state = models.CharField(
        _("courriel"), max_length=10, choices=EmailState.choices, default=EmailState.NONE
    )
    email_due_at = models.DateTimeField(_("courriel prévu le"), null=True, blank=True)
    push_state = models.CharField(
        _("notification sur l'appareil"),
        max_length=10,
        choices=PushState.choices,
        default=PushState.NONE,
    )
    push_due_at = models.DateTimeField(
        _("notification sur l'appareil prévue le"), null=True, blank=True
    )

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"],
                condition=~models.Q(key=""),
                name="notification_key_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(category__in=Category.values),
                name="notification_category_known",
            ),
            models.CheckConstraint(
                condition=models.Q(push_state__in=PushState.values)
                & (~models.Q(push_state=PushState.WAITING) | models.Q(push_due_at__isnull=False)),
                name="notification_push_state_known",
            ),
        ]
        indexes = [
            # The unread count (the bell) and the centre's list.
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
            models.Index(fields=["recipient", "-created_at"], name="notification_recent"),
            # The e-mails waiting for their time, and the digests.
            models.Index(fields=["email_state", "email_due_at"], name="notification_email_due"),
            # The pushes waiting for their time: a few rows among millions, so a partial index.
            models.Index(
                fields=["push_due_at"],
                condition=models.Q(push_state=PushState.WAITING),
                name="notification_push_due",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Preference(models.Model):
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        verbose_name=_("personne"),
    )
    category = models.CharField(_("catégorie"), max_length=20, choices=Category.choices)
    channel = models.CharField(_("canal"), max_length=10, choices=Channel.choices)
    enabled = models.BooleanField(_("activé"))

    class Meta:
        verbose_name = _("préférence de notification")
        verbose_name_plural = _("préférences de notification")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "category", "channel"], name="preference_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category}/{self.channel}"


class DeliverySettings(models.Model):
    """Quiet hours (``quiet_from`` to ``quiet_to``, Paris hours; equal means none) and the
    e-mail mode."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_settings",
        verbose_name=_("personne"),
    )
    quiet_from = models.PositiveSmallIntegerField(
        _("calme à partir de"), validators=[MaxValueValidator(23)]
    )
    quiet_to = models.PositiveSmallIntegerField(
        _("calme jusqu'à"), validators=[MaxValueValidator(23)]
    )
    weekends_quiet = models.BooleanField(_("week-ends au calme"))
    email_mode = models.CharField(_("courriels"), max_length=10, choices=EmailMode.choices)
    digest_hour = models.PositiveSmallIntegerField(
        _("heure du récapitulatif"), validators=[MaxValueValidator(23)]
    )

    class Meta:
        verbose_name = _("réglages de notification")
        verbose_name_plural = _("réglages de notification")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quiet_from__lte=23, quiet_to__lte=23, digest_hour__lte=23),
                name="delivery_settings_hours",
            )
        ]

    def __str__(self) -> str:
        return str(self.person_id)


class PushSubscriptionQuerySet(models.QuerySet["PushSubscription"]):
    def of(self, user: Any) -> PushSubscriptionQuerySet:
        return self.filter(person=user)


class PushSubscription(models.Model):
    """One browser a person chose to receive notifications on: the push service's endpoint
    (a secret address of that browser) and the keys that encrypt what is sent to it."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="push_subscriptions",
        verbose_name=_("personne"),
    )
    endpoint = models.URLField(
        _("adresse du service de notification"), max_length=1000, unique=True
    )
    p256dh = models.CharField(_("clé publique du navigateur"), max_length=100)
    auth = models.CharField(_("secret d'authentification"), max_length=40)
    label = models.CharField(_("appareil"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("ajouté le"), default=timezone.now)
    last_used_at = models.DateTimeField(_("dernier envoi le"), null=True, blank=True)

    objects = PushSubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("appareil recevant les notifications")
        verbose_name_plural = _("appareils recevant les notifications")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["person", "created_at"], name="push_subscription_person")]

    def __str__(self) -> str:
        return self.label or str(self.pk)


class VapidKey(models.Model):
    """The portal's VAPID key pair (PEM of the private key), one row, generated on first use
    unless ``settings.WEBPUSH_VAPID_PRIVATE_KEY`` gives it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    private_key = models.TextField(_("clé privée"))
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)

    class Meta:
        verbose_name = _("clé VAPID")
        verbose_name_plural = _("clés VAPID")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="vapid_key_single")]

    def __str__(self) -> str:
        return str(_("Clé VAPID"))
