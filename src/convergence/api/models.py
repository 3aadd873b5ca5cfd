"""The API's data: which service clients may call it with which scopes, and the answers kept
for idempotent requests."""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import Application

from convergence.api.scopes import SCOPES
from convergence.sso.models import OidcClient

SCOPES_LENGTH = 300
IDEMPOTENCY_KEY_LENGTH = 100


class ApiClientQuerySet(models.QuerySet["ApiClient"]):
    def scopes_of(self, application: Application) -> frozenset[str]:
        """The API scopes ``application`` may get by client credentials: those of its
        service's row (none for a server of the académie or a client without one)."""
        row = (
            self.filter(
                oidc_client__application_id=application.pk, oidc_client__service__isnull=False
            )
            .values_list("scopes", flat=True)
            .first()
        )
        return frozenset(row.split()) & SCOPES if row else frozenset()


class ApiClient(models.Model):
    """A catalogue service's OIDC client allowed to call the API, and the scopes it may get."""

    oidc_client = models.OneToOneField(
        OidcClient,
        on_delete=models.CASCADE,
        related_name="api_client",
        verbose_name=_("client OpenID Connect"),
        limit_choices_to={"service__isnull": False},
    )
    scopes = models.CharField(
        _("portées autorisées"),
        max_length=SCOPES_LENGTH,
        help_text=_(
            "Séparées par des espaces, par exemple « notifications:annonces "
            "notifications:services ». Jamais notifications:securite."
        ),
    )
    created = models.DateTimeField(_("créé le"), default=timezone.now)

    objects: ClassVar[ApiClientQuerySet] = ApiClientQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("client de l'API")
        verbose_name_plural = _("clients de l'API")
        constraints: ClassVar = [
            models.CheckConstraint(condition=~models.Q(scopes=""), name="api_client_has_scopes"),
        ]

    def __str__(self) -> str:
        return str(self.oidc_client)

    def clean(self) -> None:
        unknown = sorted(set(self.scopes.split()) - SCOPES)
        if unknown:
            raise ValidationError(
                {
                    "scopes": _(
                        "Portée inconnue ou interdite : %(scopes)s. Un service ne peut jamais "
                        "envoyer de notifications de sécurité."
                    )
                    % {"scopes": ", ".join(unknown)}
                }
            )
        if self.oidc_client_id and self.oidc_client.service_id is None:
            raise ValidationError(
                {"oidc_client": _("Seul le client d'un service du catalogue appelle l'API.")}
            )


class IdempotentRequest(models.Model):
    """An accepted call of the API under its ``Idempotency-Key``: the same key from the same
    client gets the same answer for a day, and notifies nobody twice."""

    public_id = models.UUIDField(_("identifiant"), default=uuid.uuid4, unique=True, editable=False)
    oidc_client = models.ForeignKey(
        OidcClient,
        on_delete=models.CASCADE,
        related_name="idempotent_requests",
        verbose_name=_("client OpenID Connect"),
    )
    key = models.CharField(_("clé d'idempotence"), max_length=IDEMPOTENCY_KEY_LENGTH)
    # SHA-256 of the request as understood (canonical JSON): another body, same key → 409.
    fingerprint = models.CharField(_("empreinte de la requête"), max_length=64)
    status = models.PositiveSmallIntegerField(_("statut HTTP"))
    response = models.JSONField(_("réponse"), default=dict)
    created = models.DateTimeField(_("reçue le"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("requête idempotente")
        verbose_name_plural = _("requêtes idempotentes")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["oidc_client", "key"], name="api_idempotency_once"),
        ]

    def __str__(self) -> str:
        return f"{self.oidc_client_id} · {self.key}"


def granted_scopes(application: Application) -> frozenset[str]:
    """``sso.grants``' source of service scopes (registered by the app's ready())."""
    return ApiClient.objects.scopes_of(application)
