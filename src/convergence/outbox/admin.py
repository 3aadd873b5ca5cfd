"""Admin of the outbox, read-only: the development SMS outbox and the e-mails waiting for the
mail server."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from convergence.core.admin import AuditedModelAdmin
from convergence.outbox.models import PendingMail, SmsMessage


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


@admin.register(PendingMail)
class PendingMailAdmin(AuditedModelAdmin):
    """E-mails waiting for the mail server, or abandoned: read-only, without their text (it
    may hold a reset link). Deleting one stops its delivery (and is audited)."""

    list_display = ("template", "recipient", "state", "attempts", "next_attempt_at", "created_at")
    list_filter = ("state", "template")
    search_fields = ("recipient",)
    fields = (
        "recipient",
        "subject",
        "template",
        "state",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        """Only the list's own filters: a query-string filter on the hidden text
        (``?body__contains=…``) would let a reader rebuild a queued reset link."""
        return lookup.split("__", 1)[0] in {"state", "template", "recipient"}
