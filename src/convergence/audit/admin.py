"""Read-only admin for the audit trail: searchable, filterable, never editable."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEvent


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


class AuditedModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """A ModelAdmin whose additions, changes and deletions also land in the audit trail."""

    def _audit(self, request: HttpRequest, obj: object, action: str) -> None:
        from . import events
        from .actions import record_event

        record_event(
            event_type=events.ADMIN_CHANGE,
            request=request,
            actor=request.user,
            data={
                "action": action,
                "model": obj._meta.label_lower,  # type: ignore[attr-defined]
                "object_id": str(getattr(obj, "pk", "")),
                "object": str(obj)[:200],
            },
        )

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._audit(request, obj, "addition")
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._audit(request, obj, "change")
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            self._audit(request, obj, "deletion")
        return super().log_deletions(request, queryset)
