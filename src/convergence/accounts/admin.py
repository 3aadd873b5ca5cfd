"""Admin for accounts, assignments and guardianships, with audited state changes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from convergence.accounts import actions
from convergence.accounts.models import AccountState, Assignment, Guardianship, SchoolYear, User
from convergence.core.admin import AuditedModelAdmin


class AssignmentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Assignment
    extra = 0
    autocomplete_fields = ("establishment",)


class GuardianshipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Guardianship
    fk_name = "parent"
    extra = 0
    autocomplete_fields = ("pupil",)
    verbose_name = _("enfant")
    verbose_name_plural = _("enfants")


@admin.register(User)
class UserAdmin(AuditedModelAdmin):
    list_display = ("login", "last_name", "first_name", "email", "state", "is_staff")
    list_filter = ("state", "is_staff", "assignments__role", "assignments__school_year")
    search_fields = ("login", "first_name", "last_name", "email")
    ordering = ("last_name", "first_name")
    readonly_fields = ("login", "date_joined", "last_login")
    exclude = ("password",)
    filter_horizontal = ("groups", "user_permissions")
    inlines = (AssignmentInline, GuardianshipInline)
    actions: tuple[Any, ...] = ("suspend", "reactivate", "clear_sign_in_delays")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # The state changes through the audited actions, not through the form.
        return (*self.readonly_fields, "state") if obj else self.readonly_fields

    @admin.action(description=_("Suspendre les comptes sélectionnés"))
    def suspend(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            actions.change_account_state(
                acting_user=request.user,  # type: ignore[arg-type]
                user=user,
                state=AccountState.SUSPENDED,
                request=request,
            )
        messages.success(request, _("Comptes suspendus."))

    @admin.action(description=_("Réactiver les comptes sélectionnés"))
    def reactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            actions.change_account_state(
                acting_user=request.user,  # type: ignore[arg-type]
                user=user,
                state=AccountState.ACTIVE,
                request=request,
            )
        messages.success(request, _("Comptes réactivés."))

    @admin.action(description=_("Lever les délais de connexion"))
    def clear_sign_in_delays(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            actions.clear_throttle(
                acting_user=request.user,  # type: ignore[arg-type]
                user=user,
                request=request,
            )
        messages.success(request, _("Délais de connexion levés."))


def add_user_action(action: Callable[..., None]) -> None:
    """Another app's bulk action on accounts in the administration (devices ends sessions):
    the app adds it from its ``admin.py`` without editing this one."""
    UserAdmin.actions = (*UserAdmin.actions, action)


@admin.register(Assignment)
class AssignmentAdmin(AuditedModelAdmin):
    list_display = ("user", "role", "establishment", "division", "school_year")
    list_filter = ("role", "school_year", "establishment__department")
    search_fields = ("user__login", "user__last_name", "establishment__uai", "establishment__name")
    list_select_related = ("user", "establishment")
    autocomplete_fields = ("user", "establishment")


@admin.register(Guardianship)
class GuardianshipAdmin(AuditedModelAdmin):
    list_display = ("parent", "pupil")
    search_fields = ("parent__login", "pupil__login", "parent__last_name", "pupil__last_name")
    list_select_related = ("parent", "pupil")
    autocomplete_fields = ("parent", "pupil")


@admin.register(SchoolYear)
class SchoolYearAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """School years, read-only: a year is closed from /gestion/annee-scolaire/ (audited)."""

    list_display = ("name", "opened_at", "closed_at")
    readonly_fields = ("name", "opened_at", "closed_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
