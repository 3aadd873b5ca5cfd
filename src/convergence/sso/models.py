"""Single sign-on data: which catalogue service speaks which protocol, SSO sessions and the
services each one logged into, CAS tickets, consents, and what every authorization code led to.

Tokens, grants and OIDC clients themselves are django-oauth-toolkit's models
(``oauth2_provider``); ``OidcClient`` ties one of them to a tile of the catalogue.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import ClassVar
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import Application

from convergence.portal.models import Service
from convergence.sso import fetch

# Databases whose UPDATE can return the rows it changed.
RETURNING_VENDORS = frozenset({"sqlite", "postgresql"})


def digest(secret: str) -> str:
    """How tickets and codes are stored: a SHA-256 digest, never the value itself."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Acr(models.TextChoices):
    """Authentication context classes, as the ``acr`` claim and CAS attribute give them."""

    PASSWORD = "urn:convergence:acr:password", _("Mot de passe")
    MFA = "urn:convergence:acr:mfa", _("Mot de passe et second facteur")


class OidcClient(models.Model):
    """An OpenID Connect client: a catalogue service, or a server of the académie (no tile)."""

    service = models.OneToOneField(
        Service,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="oidc_client",
        verbose_name=_("service du catalogue"),
        help_text=_("Vide pour un serveur de l'académie (identifiants client, introspection)."),
    )
    application = models.OneToOneField(
        Application,
        on_delete=models.CASCADE,
        related_name="convergence_client",
        verbose_name=_("client OAuth"),
    )
    first_party = models.BooleanField(
        _("service de l'académie"),
        default=False,
        help_text=_("Un service de l'académie ne demande pas de consentement."),
    )
    backchannel_logout_uri = models.URLField(
        _("adresse de déconnexion (back-channel)"), max_length=500, blank=True
    )

    class Meta:
        verbose_name = _("client OpenID Connect")
        verbose_name_plural = _("clients OpenID Connect")

    def __str__(self) -> str:
        return str(self.application.name or self.application.client_id)


def same_origin_prefix(prefix: str, url: str) -> bool:
    """True when ``url`` has the prefix's scheme, host and port and its path starts with the
    prefix's path at a segment boundary (``/ent`` matches ``/ent/x``, not ``/entrepot``)."""
    try:
        wanted, given = urlsplit(prefix), urlsplit(url)
        wanted_port, given_port = wanted.port, given.port
    except ValueError:
        return False
    if given.username or given.password or given.fragment:
        return False
    if (wanted.scheme.lower(), (wanted.hostname or "").lower(), wanted_port) != (
        given.scheme.lower(),
        (given.hostname or "").lower(),
        given_port,
    ):
        return False
    base = wanted.path or "/"
    path = given.path or "/"
    if path == base or base.endswith("/"):
        return path.startswith(base)
    return path.startswith(base + "/")


class CasServiceQuerySet(models.QuerySet["CasService"]):
    def for_url(self, url: str) -> CasService | None:
        """The registered service a CAS ``service`` URL belongs to (longest prefix wins)."""
        if not url or len(url) > 2000:
            return None
        matches = [
            cas
            for cas in self.select_related("service")
            if cas.service.is_published and same_origin_prefix(cas.url_prefix, url)
        ]
        return max(matches, key=lambda cas: len(cas.url_prefix), default=None)


class CasService(models.Model):
    """A catalogue service that signs in with CAS: the URLs it may ask tickets for."""

    service = models.OneToOneField(
        Service, on_delete=models.CASCADE, related_name="cas_service", verbose_name=_("service")
    )
    url_prefix = models.URLField(
        _("préfixe des adresses du service"),
        max_length=500,
        help_text=_(
            "Même schéma, hôte et port ; le chemin doit commencer par celui-ci, par exemple "
            "https://ent.exemple.fr/ ."
        ),
    )
    first_party = models.BooleanField(_("service de l'académie"), default=True)
    single_logout = models.BooleanField(_("déconnexion unique (SLO)"), default=True)
    proxy_callback_prefix = models.URLField(
        _("préfixe des adresses de rappel proxy"),
        max_length=500,
        blank=True,
        help_text=_("Vide : ce service ne peut pas obtenir de tickets proxy."),
    )

    objects: ClassVar[CasServiceQuerySet] = CasServiceQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("service CAS")
        verbose_name_plural = _("services CAS")

    def __str__(self) -> str:
        return f"{self.service.name} ({self.url_prefix})"

    def clean(self) -> None:
        for field in ("url_prefix", "proxy_callback_prefix"):
            value = getattr(self, field)
            if value and urlsplit(value).scheme not in {"http", "https"}:
                raise ValidationError({field: _("Adresse http ou https attendue.")})


class SsoEndReason(models.TextChoices):
    LOGOUT = "logout", _("Déconnexion du portail")
    ACCOUNT_DISABLED = "account-disabled", _("Compte suspendu ou archivé")
    ADMIN = "admin", _("Terminée par un administrateur")
    EXPIRED = "expired", _("Session du portail expirée")
    PASSWORD_RESET = "password-reset", _("Mot de passe réinitialisé")


class SsoSessionQuerySet(models.QuerySet["SsoSession"]):
    def active(self) -> SsoSessionQuerySet:
        return self.filter(ended_at__isnull=True)


class SsoSession(models.Model):
    """One portal sign-in as the services see it; its id is the OIDC ``sid``.

    Created the first time the sign-in is used for a service, so a sign-in that opens no
    service writes nothing here.
    """

    id = models.UUIDField(_("identifiant"), primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sso_sessions",
        verbose_name=_("compte"),
    )
    auth_time = models.DateTimeField(_("authentifié le"))
    acr = models.CharField(_("niveau d'authentification"), max_length=64, choices=Acr.choices)
    # The OIDC issuer as the person reached it (back-channel logout tokens are sent later,
    # from a task that has no request to read it from).
    issuer = models.URLField(_("émetteur OpenID Connect"), max_length=300)
    created = models.DateTimeField(_("créée le"), default=timezone.now)
    ended_at = models.DateTimeField(_("terminée le"), null=True, blank=True)
    ended_reason = models.CharField(
        _("fin"), max_length=24, choices=SsoEndReason.choices, blank=True
    )

    objects: ClassVar[SsoSessionQuerySet] = SsoSessionQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("session d'authentification unique")
        verbose_name_plural = _("sessions d'authentification unique")
        indexes: ClassVar = [models.Index(fields=["user", "ended_at"])]

    def __str__(self) -> str:
        return str(self.id)


class Protocol(models.TextChoices):
    OIDC = "oidc", "OpenID Connect"
    CAS = "cas", "CAS"


class LogoutState(models.TextChoices):
    PENDING = "pending", _("à envoyer")
    SENT = "sent", _("envoyée")
    FAILED = "failed", _("abandonnée")
    NONE = "none", _("sans objet")


class Participation(models.Model):
    """A service an SSO session logged into, and whether it was told of the logout."""

    sso_session = models.ForeignKey(
        SsoSession,
        on_delete=models.CASCADE,
        related_name="participations",
        verbose_name=_("session d'authentification unique"),
    )
    protocol = models.CharField(_("protocole"), max_length=8, choices=Protocol.choices)
    oidc_client = models.ForeignKey(
        OidcClient,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("client OpenID Connect"),
    )
    cas_service = models.ForeignKey(
        CasService, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("service CAS")
    )
    # CAS single logout posts the service ticket (the SessionIndex) to the service URL.
    cas_ticket = models.CharField(_("ticket CAS"), max_length=256, blank=True)
    cas_service_url = models.TextField(_("adresse du service CAS"), blank=True)
    created = models.DateTimeField(_("ouvert le"), default=timezone.now)
    logout_state = models.CharField(
        _("déconnexion"), max_length=8, choices=LogoutState.choices, default=LogoutState.NONE
    )
    logout_attempts = models.PositiveSmallIntegerField(_("essais de déconnexion"), default=0)
    logout_error = models.CharField(_("erreur de déconnexion"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("service ouvert")
        verbose_name_plural = _("services ouverts")
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["sso_session", "oidc_client"],
                condition=Q(oidc_client__isnull=False),
                name="sso_participation_one_per_oidc_client",
            ),
            models.CheckConstraint(
                condition=(Q(protocol="oidc") & Q(oidc_client__isnull=False))
                | (Q(protocol="cas") & Q(cas_service__isnull=False)),
                name="sso_participation_protocol_matches_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sso_session_id} → {self.oidc_client or self.cas_service}"


class TicketKind(models.TextChoices):
    SERVICE = "ST", _("ticket de service")
    PROXY = "PT", _("ticket proxy")
    PROXY_GRANTING = "PGT", _("ticket d'octroi proxy")


class CasTicketQuerySet(models.QuerySet["CasTicket"]):
    def live(self) -> CasTicketQuerySet:
        return self.filter(consumed_at__isnull=True, expires__gt=timezone.now())

    def burn(self, ticket_digest: str, *, kinds: tuple[str, ...]) -> int | None:
        """Mark the unused ticket of one of ``kinds`` with this digest consumed; its id, or
        ``None`` when there is none (unknown, or used already: the one UPDATE decides
        between two concurrent validations)."""
        connection = connections[self.db]
        now = timezone.now()
        if connection.vendor not in RETURNING_VENDORS:
            candidates = self.filter(
                ticket_digest=ticket_digest, kind__in=kinds, consumed_at__isnull=True
            )
            found = candidates.values_list("pk", flat=True).first()
            won = found is not None and candidates.filter(pk=found).update(consumed_at=now)
            return found if won else None
        # UPDATE … RETURNING (SQLite 3.35+, PostgreSQL), written out: the ORM has no
        # returning update, and compiling one costs more than the statement itself.
        table = connection.ops.quote_name(CasTicket._meta.db_table)
        placeholders = ", ".join(["%s"] * len(kinds))
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET consumed_at = %s WHERE ticket_digest = %s "  # noqa: S608
                f"AND kind IN ({placeholders}) AND consumed_at IS NULL RETURNING id",
                [connection.ops.adapt_datetimefield_value(now), ticket_digest, *kinds],
            )
            row = cursor.fetchone()
        return int(row[0]) if row is not None else None

    def validated(self, pk: int) -> CasTicket | None:
        """A ticket as validation reads it, with its owner (``user``) and SSO session, in
        one statement (``fetch.py``: the ORM's join would cost a quarter of a validation)."""
        ticket: CasTicket | None = fetch.first_joined(self.db, VALIDATION_SHAPE, pk)
        return ticket


class CasTicket(models.Model):
    """A CAS ticket, stored as a digest. Service and proxy tickets are burned at the first
    validation, whatever its outcome."""

    ticket_digest = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=3, choices=TicketKind.choices)
    cas_service = models.ForeignKey(CasService, on_delete=models.CASCADE, null=True, blank=True)
    # The service URL the ticket was issued for (ST, PT) or the proxy callback (PGT).
    service_url = models.TextField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cas_tickets"
    )
    sso_session = models.ForeignKey(SsoSession, on_delete=models.CASCADE, null=True, blank=True)
    from_new_login = models.BooleanField(default=False)
    # A PT's proxy-granting ticket; a PGT's chain of proxies (callback URLs), nearest first.
    granted_by = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="granted"
    )
    proxies = models.JSONField(default=list, blank=True)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()
    consumed_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[CasTicketQuerySet] = CasTicketQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("ticket CAS")
        verbose_name_plural = _("tickets CAS")
        indexes: ClassVar = [models.Index(fields=["expires"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.service_url}"


class Consent(models.Model):
    """A person's agreement that a third-party service receives the listed information."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sso_consents",
        verbose_name=_("compte"),
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="consents", verbose_name=_("service")
    )
    scopes = models.CharField(_("informations transmises"), max_length=300)
    granted_at = models.DateTimeField(_("accordé le"), default=timezone.now)

    class Meta:
        verbose_name = _("consentement")
        verbose_name_plural = _("consentements")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "service"], name="sso_consent_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.service_id}"

    def covers(self, scopes: set[str]) -> bool:
        return scopes <= set(self.scopes.split())


class IssuedCode(models.Model):
    """What an authorization code carried and, once redeemed, what it issued.

    Kept after the code is redeemed so that a second use is recognised and everything the
    first use issued is revoked (OAuth 2.0 security BCP, RFC 9700 §4.2.1 / RFC 6749 §4.1.2).
    """

    code_digest = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey(Application, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    sso_session = models.ForeignKey(SsoSession, on_delete=models.CASCADE, null=True, blank=True)
    auth_time = models.DateTimeField()
    acr = models.CharField(max_length=64, choices=Acr.choices)
    created = models.DateTimeField(default=timezone.now)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    token_family = models.UUIDField(null=True, blank=True)
    access_token_checksum = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("code d'autorisation délivré")
        verbose_name_plural = _("codes d'autorisation délivrés")
        indexes: ClassVar = [models.Index(fields=["created"])]

    def __str__(self) -> str:
        created = formats.date_format(timezone.localtime(self.created), "DATETIME_FORMAT")
        return f"{self.application_id} {created}"


# What CAS validation reads of a ticket, its owner and its SSO session.
VALIDATION_SHAPE = fetch.Shape(
    model=CasTicket,
    fields=(
        "id",
        "kind",
        "service_url",
        "from_new_login",
        "proxies",
        "created",
        "expires",
        "granted_by",
        "cas_service",
        "user",
        "sso_session",
    ),
    related=(
        ("user", ("id", "login", "first_name", "last_name", "email", "state")),
        ("sso_session", ("id", "auth_time", "acr")),
    ),
    lookup="id",
)
