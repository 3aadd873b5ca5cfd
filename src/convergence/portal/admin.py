"""Admin for the services catalogue: a tile, its audience rules, in one page."""

from __future__ import annotations

from django.contrib import admin
from django.db import models

from convergence.core.admin import AuditedModelAdmin
from convergence.portal.models import AudienceRule, Favourite, Service


class AudienceRuleInline(admin.TabularInline):  # type: ignore[type-arg]
    model = AudienceRule
    extra = 1
    autocomplete_fields = ("establishment",)


@admin.register(Service)
class ServiceAdmin(AuditedModelAdmin):
    list_display = ("name", "category", "for_everyone", "is_external", "is_published", "position")
    list_filter = ("category", "for_everyone", "is_external", "is_published")
    list_editable = ("position",)
    search_fields = ("name", "description", "url")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (AudienceRuleInline,)
    # A URL typed without a scheme is taken as https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(Favourite)
class FavouriteAdmin(AuditedModelAdmin):
    list_display = ("user", "service", "position")
    list_filter = ("service",)
    search_fields = ("user__login", "service__name")
    list_select_related = ("user", "service")
    autocomplete_fields = ("user",)
