"""Admin of single sign-on. A catalogue service's page gains its OIDC client and CAS
registration, so an administrator declares a service once: tile, audience, SSO."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from oauth2_provider import admin as toolkit_admin  # registers the toolkit's admins first
from oauth2_provider.forms import ApplicationForm
from oauth2_provider.models import AccessToken, Application, Grant, IDToken, RefreshToken

from convergence.core.admin import AuditedModelAdmin
from convergence.portal.admin import ServiceAdmin
from convergence.portal.models import Service
from convergence.sso import actions
from convergence.sso.models import (
    CasService,
    Consent,
    OidcClient,
    Participation,
    SsoEndReason,
    SsoSession,
)
from convergence.sso.signing import refuse_unsupported_algorithm

# A URL typed without a scheme is taken as https (Django 6's default), as on the tile.
HTTPS_URLS: Mapping[type[models.Field[Any, Any]], Mapping[str, Any]] = {
    models.URLField: {"assume_scheme": "https"}
}


class OidcClientInline(admin.StackedInline):  # type: ignore[type-arg]
    model = OidcClient
    extra = 0
    max_num = 1
    autocomplete_fields = ("application",)
    formfield_overrides = HTTPS_URLS


class CasServiceInline(admin.StackedInline):  # type: ignore[type-arg]
    model = CasService
    extra = 0
    max_num = 1
    formfield_overrides = HTTPS_URLS


admin.site.unregister(Service)


@admin.register(Service)
class ServiceWithSsoAdmin(ServiceAdmin):
    inlines = (*ServiceAdmin.inlines, OidcClientInline, CasServiceInline)  # type: ignore[assignment]
    # The second-factor rules of a service are part of its SSO (sso/step_up.py).
    list_filter = (  # type: ignore[assignment]
        *ServiceAdmin.list_filter,
        "mfa_required",
        "mfa_outside_trusted_networks",
    )


class SignedApplicationForm(ApplicationForm):  # type: ignore[misc]
    """The toolkit's form, refusing an ID token algorithm the portal cannot sign with on the
    field itself (the ``pre_save`` guard would otherwise answer with an error page)."""

    def _post_clean(self) -> None:
        super()._post_clean()
        try:
            refuse_unsupported_algorithm(self.instance)
        except ValidationError as error:
            self._update_errors(error)


admin.site.unregister(Application)


def _without_pk(columns: tuple[str, ...]) -> tuple[str, ...]:
    """The toolkit's list columns, its "pk" (shown as "Pk") replaced by the named "id"."""
    return tuple("id" if column == "pk" else column for column in columns)


@admin.register(Application)
class ApplicationAdmin(toolkit_admin.ApplicationAdmin):  # type: ignore[misc]
    form = SignedApplicationForm
    list_display = _without_pk(toolkit_admin.ApplicationAdmin.list_display)


# The toolkit's token admins, in French: its column of masked secrets and its revoke action
# are named in plain English strings, out of the catalog's reach.
admin.site.unregister(AccessToken)
admin.site.unregister(RefreshToken)
admin.site.unregister(IDToken)
admin.site.unregister(Grant)


@admin.register(AccessToken)
class AccessTokenAdmin(toolkit_admin.AccessTokenAdmin):  # type: ignore[misc]
    list_display = _without_pk(toolkit_admin.AccessTokenAdmin.list_display)

    @admin.display(description=_("jeton (fin seulement)"))
    def masked_token(self, obj: AccessToken) -> str:
        return str(super().masked_token(obj))

    @admin.action(description=_("Révoquer les jetons d'accès choisis"))
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[AccessToken]) -> None:
        super().revoke_tokens(request, queryset)


@admin.register(RefreshToken)
class RefreshTokenAdmin(toolkit_admin.RefreshTokenAdmin):  # type: ignore[misc]
    list_display = _without_pk(toolkit_admin.RefreshTokenAdmin.list_display)

    @admin.display(description=_("jeton (fin seulement)"))
    def masked_token(self, obj: RefreshToken) -> str:
        return str(super().masked_token(obj))

    @admin.action(description=_("Révoquer les jetons de renouvellement choisis"))
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[RefreshToken]) -> None:
        super().revoke_tokens(request, queryset)


@admin.register(IDToken)
class IDTokenAdmin(toolkit_admin.IDTokenAdmin):  # type: ignore[misc]
    pass


@admin.register(Grant)
class GrantAdmin(toolkit_admin.GrantAdmin):  # type: ignore[misc]
    list_display = _without_pk(toolkit_admin.GrantAdmin.list_display)

    @admin.display(description=_("code (fin seulement)"))
    def masked_code(self, obj: Grant) -> str:
        return str(super().masked_code(obj))


@admin.register(OidcClient)
class OidcClientAdmin(AuditedModelAdmin):
    list_display = ("__str__", "service", "first_party", "backchannel_logout_uri")
    list_filter = ("first_party",)
    autocomplete_fields = ("application",)
    formfield_overrides = HTTPS_URLS
    search_fields = ("application__name", "application__client_id", "service__name")


@admin.register(CasService)
class CasServiceAdmin(AuditedModelAdmin):
    list_display = ("service", "url_prefix", "first_party", "single_logout")
    list_filter = ("first_party", "single_logout")
    formfield_overrides = HTTPS_URLS
    search_fields = ("service__name", "url_prefix")


class ParticipationInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Participation
    extra = 0
    can_delete = False
    fields = ("protocol", "oidc_client", "cas_service", "created", "logout_state", "logout_error")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SsoSession)
class SsoSessionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "created", "auth_time", "acr", "ended_at", "ended_reason")
    list_filter = ("ended_reason", "acr")
    search_fields = ("user__login", "user__last_name")
    readonly_fields = (
        "id",
        "user",
        "auth_time",
        "acr",
        "issuer",
        "created",
        "ended_at",
        "ended_reason",
    )
    inlines = (ParticipationInline,)
    actions = ("end_sessions",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Terminer les sessions choisies (et déconnecter leurs services)")
    def end_sessions(self, request: HttpRequest, queryset: QuerySet[SsoSession]) -> None:
        actions.end_sso_sessions(list(queryset), reason=SsoEndReason.ADMIN, request=request)


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "service", "scopes", "granted_at")
    search_fields = ("user__login", "service__name")
    readonly_fields = ("user", "service", "scopes", "granted_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
