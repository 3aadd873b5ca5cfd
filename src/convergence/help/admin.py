"""The guides written in the administration: a writer adds a draft and submits it; another
person, allowed to publish, publishes it (``help.actions``). A guide not in draft cannot be
edited: withdraw it first, so what is published is always what was reviewed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from convergence.core.admin import AuditedModelAdmin
from convergence.help import actions
from convergence.help.forms import GuideForm
from convergence.help.models import Guide, GuideStatus

WORKFLOW_FIELDS = ("status", "author", "reviewer", "last_reviewed", "created_at", "updated_at")


def _run(
    admin_site: GuideAdmin,
    request: HttpRequest,
    queryset: QuerySet[Guide],
    step: Callable[..., Any],
    done: str,
) -> None:
    count = 0
    for guide in queryset:
        try:
            step(guide=guide, acting_user=request.user, request=request)
        except actions.GuideWorkflowError as error:
            admin_site.message_user(request, f"{guide.slug} : {error}", messages.ERROR)
        else:
            count += 1
    if count:
        admin_site.message_user(request, f"{done} : {count}", messages.SUCCESS)


@admin.register(Guide)
class GuideAdmin(AuditedModelAdmin):
    form = GuideForm
    list_display = ("title", "slug", "status", "author", "reviewer", "last_reviewed")
    list_filter = ("status", "easy_read")
    search_fields = ("title", "slug", "summary")
    readonly_fields = WORKFLOW_FIELDS
    prepopulated_fields = {"slug": ("title",)}
    actions = ("submit_for_review", "publish", "withdraw")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.status != GuideStatus.DRAFT:
            return [field.name for field in Guide._meta.fields if field.name != "id"]
        return WORKFLOW_FIELDS

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and obj.status != GuideStatus.DRAFT:
            return {}
        return super().get_prepopulated_fields(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Soumettre à relecture"))
    def submit_for_review(self, request: HttpRequest, queryset: QuerySet[Guide]) -> None:
        _run(self, request, queryset, actions.submit_guide_for_review, str(_("Soumis")))

    @admin.action(description=_("Publier (après relecture)"), permissions=["publish"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Guide]) -> None:
        _run(self, request, queryset, actions.publish_guide, str(_("Publiés")))

    @admin.action(description=_("Retirer de la publication"), permissions=["publish"])
    def withdraw(self, request: HttpRequest, queryset: QuerySet[Guide]) -> None:
        _run(self, request, queryset, actions.withdraw_guide, str(_("Retirés")))

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("help.publish_guide"))
