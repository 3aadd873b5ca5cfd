"""Admin for the académie (branding), departments and establishments."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from convergence.audit.admin import AuditedModelAdmin

from .models import Academie, Department, Establishment


@admin.register(Academie)
class AcademieAdmin(AuditedModelAdmin):
    list_display = ("name", "official_host", "mail_domain")
    fieldsets = (
        (None, {"fields": ("name", "short_name", "logo")}),
        ("Adresses", {"fields": ("official_host", "mail_domain", "trusted_networks")}),
    )

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
