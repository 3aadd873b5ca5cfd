"""Admin of the outbox: the development SMS outbox, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from convergence.outbox.models import SmsMessage


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The development SMS outbox, read-only: what would have been sent."""

    list_display = ("to", "sent_at")
    search_fields = ("to",)
    readonly_fields = ("to", "body", "sent_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
