"""'Mes données': what the portal holds on a person, or their minor child, and its exports."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone

from convergence.accounts import actions
from convergence.accounts.http import AuthenticatedRequest
from convergence.accounts.models import User
from convergence.audit.actions import record_refusal
from convergence.core import data_notice, personal_data

EXPORT_FORMATS = ("json", "html", "pdf")


def _minor_children(parent: User) -> QuerySet[User]:
    """The children whose data a parent may see: minors only."""
    return User.objects.children_of(parent).minors().order_by("first_name", "pk")


def _person(request: AuthenticatedRequest, child_pk: int | None) -> User:
    """The signed-in person, or one of their minor children (404 for anyone else, audited)."""
    user = request.user
    if child_pk is None:
        return user
    child = _minor_children(user).filter(pk=child_pk).first()
    if child is None:
        record_refusal(kind="child_data", request=request, actor=user, target=child_pk)
        raise Http404
    return child


@login_required
def account_data(request: AuthenticatedRequest, child_pk: int | None = None) -> HttpResponse:
    """Everything the portal holds on the person (or their minor child), shown on one page."""
    person = _person(request, child_pk)
    return render(
        request,
        "accounts/data/my_data.html",
        {
            "person": person,
            "is_child": child_pk is not None,
            "data": personal_data.collect_personal_data(
                person,
                readable=True,
                network=(
                    personal_data.Disclosure.HIDDEN
                    if child_pk is not None
                    else personal_data.Disclosure.MASKED
                ),
            ),
            "children": _minor_children(request.user) if child_pk is None else [],
            "retention": data_notice.duration(
                datetime.timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS)
            ),
        },
    )


@login_required
def account_data_export(
    request: AuthenticatedRequest, fmt: str, child_pk: int | None = None
) -> HttpResponse:
    """The same data as a download: JSON (portable), HTML or PDF (readable); audited."""
    if fmt not in EXPORT_FORMATS:
        raise Http404
    person = _person(request, child_pk)
    data = actions.export_personal_data(
        acting_user=request.user, person=person, fmt=fmt, request=request
    )
    stamp = timezone.localdate().isoformat()
    if fmt == "json":
        response = HttpResponse(
            personal_data.as_json(data), content_type="application/json; charset=utf-8"
        )
    elif fmt == "pdf":
        response = HttpResponse(
            personal_data.as_pdf(data, person=person.get_full_name()),
            content_type="application/pdf",
        )
    else:
        html = render_to_string(
            "accounts/data/export.html", {"person": person, "data": data}, request=request
        )
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="mes-donnees-{person.login}-{stamp}.{fmt}"'
    )
    return response
