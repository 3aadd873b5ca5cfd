"""Administration of support contacts, with their hours and exceptions inline."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from convergence.core.admin import AuditedModelAdmin
from convergence.support.models import (
    OpeningException,
    OpeningHours,
    RoutingRule,
    SupportContact,
    Team,
    Ticket,
    TicketAttachment,
    TicketMessage,
)


class OpeningHoursInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OpeningHours
    extra = 0


class OpeningExceptionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = OpeningException
    extra = 0


@admin.register(SupportContact)
class SupportContactAdmin(AuditedModelAdmin):
    list_display = ("name", "profile", "role", "department", "phone", "position")
    list_filter = ("profile", "department")
    search_fields = ("name", "helps_with", "email")
    list_select_related = ("department",)
    inlines = (OpeningHoursInline, OpeningExceptionInline)
    # A URL typed without a scheme is taken as https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = (
        (None, {"fields": ("name", "slug", "helps_with", "position")}),
        (_("Pour qui"), {"fields": ("profile", "role", "department", "shows_referents")}),
        (_("Coordonnées"), {"fields": ("phone", "email", "url")}),
        (
            "Jours d'ouverture",
            {"fields": ("closed_on_public_holidays", "closed_during_school_holidays")},
        ),
    )


class RoutingRuleInline(admin.TabularInline):  # type: ignore[type-arg]
    model = RoutingRule
    extra = 0


@admin.register(Team)
class TeamAdmin(AuditedModelAdmin):
    list_display = ("name", "membership", "contact", "first_answer_hours", "resolution_hours")
    search_fields = ("name", "slug")
    filter_horizontal = ("members",)
    inlines = (RoutingRuleInline,)


class TicketMessageInline(admin.StackedInline):  # type: ignore[type-arg]
    model = TicketMessage
    extra = 0
    readonly_fields = ("author", "from_agent", "is_internal", "body", "created_at")
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class TicketAttachmentInline(admin.TabularInline):  # type: ignore[type-arg]
    """Which files a ticket carries; the files themselves open from the ticket's page."""

    model = TicketAttachment
    extra = 0
    fields = ("name", "content_type", "size", "message", "uploaded_by", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(AuditedModelAdmin):
    """Read-only here: tickets change through their pages, whose actions audit each step."""

    list_display = ("reference", "category", "status", "team", "establishment", "created_at")
    list_filter = ("status", "category", "team")
    search_fields = ("reference", "requester_email", "requester__login")
    list_select_related = ("team", "establishment")
    inlines = (TicketMessageInline, TicketAttachmentInline)

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
