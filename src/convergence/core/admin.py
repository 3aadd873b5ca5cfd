"""Admin for the académie (branding), departments and establishments, and the base class
whose changes reach the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from convergence.core.models import Academie, Department, Establishment
from convergence.core.signals import admin_changed


class AuditedModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A ModelAdmin whose additions, changes and deletions are announced (``admin_changed``);
    the audit app records each one. Core cannot import audit, which sits above it."""

    def _announce(self, request: HttpRequest, obj: Any, action: str) -> None:
        admin_changed.send(sender=type(obj), request=request, obj=obj, action=action)

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._announce(request, obj, "addition")
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._announce(request, obj, "change")
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            self._announce(request, obj, "deletion")
        return super().log_deletions(request, queryset)


@admin.register(Academie)
class AcademieAdmin(AuditedModelAdmin):
    list_display = ("name", "official_host", "mail_domain")
    fieldsets = (
        (None, {"fields": ("name", "short_name", "logo")}),
        ("Adresses", {"fields": ("official_host", "mail_domain", "trusted_networks")}),
        (
            _("Mentions légales"),
            {"fields": ("postal_address", "phone", "publication_director", "hosting_provider")},
        ),
        (_("Données personnelles"), {"fields": ("dpo_name", "dpo_email", "dpo_postal_address")}),
        (
            _("Accessibilité"),
            {
                "fields": (
                    "accessibility_status",
                    "accessibility_statement_date",
                    "accessibility_evaluation",
                    "accessibility_plan_url",
                    "accessibility_email",
                )
            },
        ),
    )
    # A URL typed without a scheme is taken as https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Academie.objects.exists()


@admin.register(Department)
class DepartmentAdmin(AuditedModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Establishment)
class EstablishmentAdmin(AuditedModelAdmin):
    list_display = ("uai", "name", "kind", "department", "city")
    list_filter = ("kind", "department")
    search_fields = ("uai", "name", "city")
    list_select_related = ("department",)
