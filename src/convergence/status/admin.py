"""Administration of service status: the probes and the school calendar's busy periods are
set here; incidents, maintenance windows and subscriptions are only looked at (they change
through the management pages, whose actions audit each step and tell the subscribers).

Saving or deleting a probe or a busy period rebuilds the status snapshot once committed
(``status.receivers``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from convergence.core.admin import AuditedModelAdmin
from convergence.status.models import (
    PROBE_RUNNING_FIELDS,
    Incident,
    IncidentUpdate,
    Maintenance,
    PeakPeriod,
    Probe,
    Subscription,
)


class ReadOnlyAdmin(AuditedModelAdmin):
    """Looked at only: no addition, change or deletion here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Probe)
class ProbeAdmin(AuditedModelAdmin):
    list_display = ("service", "name", "kind", "target", "state", "last_checked_at", "is_enabled")
    list_filter = ("state", "kind", "is_enabled", "service")
    search_fields = ("name", "target", "service__name", "service__slug")
    list_select_related = ("service",)
    readonly_fields = PROBE_RUNNING_FIELDS
    fieldsets = (
        (None, {"fields": ("service", "name", "kind", "target", "is_enabled")}),
        (
            _("Ce qui est vérifié"),
            {"fields": ("expected_status", "keyword", "certificate_warning_days", "slow_ms")},
        ),
        (
            _("Rythme et amortissement"),
            {
                "fields": (
                    "interval_seconds",
                    "timeout_seconds",
                    "retries",
                    "down_after",
                    "up_after",
                )
            },
        ),
        (_("État mesuré (écrit par les sondes)"), {"fields": PROBE_RUNNING_FIELDS}),
    )


@admin.register(PeakPeriod)
class PeakPeriodAdmin(AuditedModelAdmin):
    list_display = ("name", "starts_on", "ends_on", "weekday", "start_time", "end_time")
    list_filter = ("weekday",)
    search_fields = ("name",)
    fieldsets = (
        (None, {"fields": ("name",)}),
        (_("Une période de dates"), {"fields": ("starts_on", "ends_on")}),
        (_("Ou chaque semaine"), {"fields": ("weekday",)}),
        (
            _("Heures (facultatives pour une période de dates)"),
            {"fields": ("start_time", "end_time")},
        ),
    )


class IncidentUpdateInline(admin.TabularInline):  # type: ignore[type-arg]
    model = IncidentUpdate
    extra = 0
    fields = ("posted_at", "stage", "message", "author")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    """Looked at here; confirmed, followed and closed on the status management page."""

    list_display = (
        "title",
        "impact",
        "is_published",
        "opened_automatically",
        "opened_at",
        "resolved_at",
    )
    list_filter = ("impact", "is_published", "opened_automatically", "services")
    search_fields = ("title",)
    date_hierarchy = "opened_at"
    inlines = (IncidentUpdateInline,)
    fields = (
        "title",
        "impact",
        "services",
        "is_published",
        "opened_automatically",
        "opened_at",
        "resolved_at",
        "postmortem",
        "created_by",
    )


@admin.register(Maintenance)
class MaintenanceAdmin(ReadOnlyAdmin):
    """Looked at here; planned and cancelled on the status management page."""

    list_display = ("title", "starts_at", "ends_at", "cancelled_at", "created_at")
    list_filter = ("services",)
    search_fields = ("title",)
    date_hierarchy = "starts_at"
    fields = (
        "title",
        "message",
        "services",
        "starts_at",
        "ends_at",
        "peak_warnings",
        "created_by",
        "created_at",
        "cancelled_at",
    )


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("user", "service", "created_at")
    list_filter = ("service",)
    search_fields = ("user__login", "user__last_name", "service__name")
    list_select_related = ("user", "service")
