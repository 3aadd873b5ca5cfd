"""Read-only admin for the audit trail: searchable, filterable, never editable."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from convergence.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ("occurred_at", "event_type", "actor", "subject", "ip_address")
    list_filter = ("event_type", "occurred_at")
    search_fields = ("actor__login", "subject__login", "ip_address")
    date_hierarchy = "occurred_at"
    list_select_related = ("actor", "subject")
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
