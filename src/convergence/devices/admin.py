"""Administration of sessions: ending the selected accounts' sessions everywhere."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from convergence.accounts.admin import UserAdmin, add_user_action
from convergence.accounts.models import User
from convergence.devices import actions


@admin.action(description=_("Terminer les sessions (déconnecter de tous les appareils)"))
def end_sessions(modeladmin: UserAdmin, request: HttpRequest, queryset: QuerySet[User]) -> None:
    for user in queryset:
        actions.end_user_sessions(
            acting_user=request.user,  # type: ignore[arg-type]
            user=user,
            request=request,
        )
    messages.success(request, _("Sessions terminées."))


add_user_action(end_sessions)
