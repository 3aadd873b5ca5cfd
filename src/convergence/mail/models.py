"""The webmail keeps no mail: only what a person decided about their mail access.

* ``AppPassword`` — one per phone or mail client, valid for IMAP and SMTP submission only
  (never the portal, never ManageSieve: rules are the portal's). The secret is random (about
  100 bits), shown once and stored as a keyed SHA-256 digest: a digest of a random secret
  cannot be reversed by guessing, so the mail server's check is one indexed lookup, the same
  time for every answer.
* ``TrustedSender`` — a sender whose remote images this person chose to load.
* ``Contact``, ``ContactGroup``, ``CollectedAddress`` — a person's own address book, beside the
  académie's directory (which is read from the accounts, never copied here).
* ``MailAlert`` — a message a rule asked to be told about ("me notifier"), shown in the portal.
* ``PhishingReport`` — a message a person reported; the DSI groups them by campaign.
* ``SendingCount``, ``SendingSuspension`` — recipients sent per person and hour, and the DSI's
  suspensions of sending for one account or a whole establishment.

Rules and vacation replies are not here: they live in the person's Sieve script on the mail
server, the one place delivery reads them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convergence.core.models import Establishment


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


# --- Address book -----------------------------------------------------------------------------


class Contact(models.Model):
    """Someone in a person's own address book (often outside the académie)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="mail_contacts",
        verbose_name=_("propriétaire"),
    )
    name = models.CharField(_("nom"), max_length=120, blank=True)
    address = models.EmailField(_("adresse électronique"), max_length=254)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    organisation = models.CharField(_("organisme"), max_length=120, blank=True)
    note = models.TextField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("ajouté le"), default=timezone.now)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    class Meta:
        verbose_name = _("contact personnel")
        verbose_name_plural = _("contacts personnels")
        ordering = ("name", "address")
        constraints = [
            models.UniqueConstraint(fields=["owner", "address"], name="mail_contact_once")
        ]

    def __str__(self) -> str:
        return self.name or self.address


class ContactGroup(models.Model):
    """A named list of a person's contacts, written to at once."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="mail_contact_groups",
        verbose_name=_("propriétaire"),
    )
    name = models.CharField(_("nom du groupe"), max_length=80)
    members = models.ManyToManyField(
        Contact, related_name="groups", blank=True, verbose_name=_("membres")
    )
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)

    class Meta:
        verbose_name = _("groupe de contacts")
        verbose_name_plural = _("groupes de contacts")
        ordering = ("name",)
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="mail_contact_group_once"),
            models.CheckConstraint(condition=~Q(name=""), name="mail_contact_group_named"),
        ]

    def __str__(self) -> str:
        return self.name


class CollectedAddress(models.Model):
    """An address a person wrote to, offered first the next time they write."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="mail_collected_addresses",
        verbose_name=_("propriétaire"),
    )
    address = models.EmailField(_("adresse électronique"), max_length=254)
    name = models.CharField(_("nom"), max_length=120, blank=True)
    times_used = models.PositiveIntegerField(_("nombre d'envois"), default=1)
    last_used_at = models.DateTimeField(_("dernier envoi"), default=timezone.now)

    class Meta:
        verbose_name = _("adresse récemment utilisée")
        verbose_name_plural = _("adresses récemment utilisées")
        ordering = ("-last_used_at",)
        constraints = [
            models.UniqueConstraint(fields=["owner", "address"], name="mail_collected_once")
        ]

    def __str__(self) -> str:
        return self.address


# --- Rules' notifications -------------------------------------------------------------------


class MailAlertQuerySet(models.QuerySet["MailAlert"]):
    def unseen(self) -> MailAlertQuerySet:
        return self.filter(seen_at__isnull=True)

    def of(self, user: Any) -> MailAlertQuerySet:
        return self.filter(user=user)


class MailAlert(models.Model):
    """A delivered message a person's rule asked to be told about ("me notifier")."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="mail_alerts",
        verbose_name=_("personne"),
    )
    sender = models.CharField(_("expéditeur"), max_length=255)
    subject = models.CharField(_("objet"), max_length=255, blank=True)
    message_id = models.CharField(_("identifiant du message"), max_length=255, blank=True)
    received_at = models.DateTimeField(_("reçu le"), default=timezone.now)
    seen_at = models.DateTimeField(_("vu le"), null=True, blank=True)

    objects = MailAlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("alerte de message")
        verbose_name_plural = _("alertes de message")
        ordering = ("-received_at",)
        indexes = [models.Index(fields=["user", "seen_at"], name="mail_alert_user_unseen")]

    def __str__(self) -> str:
        return self.subject


# --- Phishing reports -------------------------------------------------------------------------


class PhishingReport(models.Model):
    """A message a person reported as phishing: what the DSI needs to group campaigns, never
    the message's body (it went to the security address as an attachment)."""

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="phishing_reports",
        verbose_name=_("signalé par"),
    )
    reported_at = models.DateTimeField(_("signalé le"), default=timezone.now)
    sender_address = models.CharField(_("adresse de l'expéditeur"), max_length=254)
    sender_name = models.CharField(_("nom affiché"), max_length=255, blank=True)
    sender_domain = models.CharField(_("domaine de l'expéditeur"), max_length=254)
    subject = models.CharField(_("objet"), max_length=255, blank=True)
    link_domains = models.JSONField(_("domaines des liens"), default=list, blank=True)
    message_id = models.CharField(_("identifiant du message"), max_length=255, blank=True)
    forwarded = models.BooleanField(_("transmis à la sécurité"), default=False)

    class Meta:
        verbose_name = _("signalement d'hameçonnage")
        verbose_name_plural = _("signalements d'hameçonnage")
        ordering = ("-reported_at",)
        indexes = [
            models.Index(fields=["sender_domain"], name="mail_phish_domain"),
            models.Index(fields=["reported_at"], name="mail_phish_when"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "message_id"],
                condition=~Q(message_id=""),
                name="mail_phish_once_per_reporter",
            )
        ]

    def __str__(self) -> str:
        return self.subject or self.sender_address


class PhishingWarning(models.Model):
    """The DSI's warning to everyone about one campaign."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("rédigé par"),
    )
    created_at = models.DateTimeField(_("envoyé le"), default=timezone.now)
    campaign = models.CharField(_("campagne"), max_length=300)
    title = models.CharField(_("titre"), max_length=160)
    text = models.TextField(_("texte"), max_length=4000)

    class Meta:
        verbose_name = _("alerte d'hameçonnage")
        verbose_name_plural = _("alertes d'hameçonnage")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return self.title


# --- Sending limits ---------------------------------------------------------------------------


class SendingCount(models.Model):
    """Recipients a person sent to in one clock hour, from the webmail or any mail client
    (the mail relay's policy service counts too). A day's count is the sum of its hours."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("personne"),
    )
    hour = models.DateTimeField(_("heure"))
    recipients = models.PositiveIntegerField(_("destinataires"), default=0)

    class Meta:
        verbose_name = _("envois de l'heure")
        verbose_name_plural = _("envois par heure")
        constraints = [
            models.UniqueConstraint(fields=["user", "hour"], name="mail_sending_count_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.hour:%Y-%m-%d %H}h: {self.recipients}"


class SendingSuspensionQuerySet(models.QuerySet["SendingSuspension"]):
    def in_force(self) -> SendingSuspensionQuerySet:
        return self.filter(lifted_at__isnull=True)

    def covering(self, user: Any) -> SendingSuspensionQuerySet:
        """Suspensions in force of ``user`` or of one of their establishments this year."""
        from convergence.accounts.models import Assignment

        establishments = Assignment.objects.current().filter(user=user).values("establishment")
        return self.in_force().filter(Q(user=user) | Q(establishment__in=establishments))


class SendingSuspension(models.Model):
    """The DSI stopped sending for one account or a whole establishment, until lifted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sending_suspensions",
        verbose_name=_("compte"),
    )
    establishment = models.ForeignKey(
        Establishment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sending_suspensions",
        verbose_name=_("établissement"),
    )
    reason = models.CharField(_("motif"), max_length=300)
    automatic = models.BooleanField(_("posée par la limite d'envoi"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("posée par"),
    )
    created_at = models.DateTimeField(_("posée le"), default=timezone.now)
    lifted_at = models.DateTimeField(_("levée le"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("levée par"),
    )

    objects = SendingSuspensionQuerySet.as_manager()

    class Meta:
        verbose_name = _("suspension des envois")
        verbose_name_plural = _("suspensions des envois")
        ordering = ("-created_at",)
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(establishment__isnull=True))
                | (Q(user__isnull=True) & Q(establishment__isnull=False)),
                name="mail_suspension_one_target",
            )
        ]

    def __str__(self) -> str:
        return self.reason
