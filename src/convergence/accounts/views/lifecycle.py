"""Rentrée (closing the school year) and "Mes données" (what the portal holds on a person)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from convergence.audit import events
from convergence.audit.actions import record_event, record_refusal
from convergence.audit.models import AuditEvent

from .. import actions, personal_data, tasks
from ..forms.lifecycle import CloseSchoolYearForm
from ..models import User
from ..permissions import dsi_required
from ..school_years import open_school_year

EXPORT_FORMATS = ("json", "html", "pdf")


@dsi_required
def manage_school_year(request: HttpRequest) -> HttpResponse:
    """The open school year, what closing it would do (dry run), and closing it (POST).

    The closing itself runs in the task worker; the page says so until the year is closed.
    """
    user = request.user
    assert isinstance(user, User)
    year = open_school_year()
    closing = tasks.school_year_closing()
    form = CloseSchoolYearForm(request.POST or None, initial={"year": year})
    if request.method == "POST" and form.is_valid():
        if closing is not None and not closing["failed"]:
            form.add_error(None, _("La clôture de l'année est déjà en cours."))
        else:
            tasks.start_school_year_closing(acting_user=user, year=form.cleaned_data["year"])
            return redirect("manage_school_year")
    last = AuditEvent.objects.of_type(events.SCHOOL_YEAR_CLOSED).first()
    context = {
        "form": form,
        "year": year,
        "closing": closing,
        "last_closing": last,
        "preview": None
        if closing and not closing["failed"]
        else actions.preview_school_year_closing(acting_user=user, year=year),
    }
    if request.headers.get("HX-Request") and request.method == "GET" and closing is None:
        # The page polls while the closing runs; once done, show it whole again.
        return HttpResponse(headers={"HX-Refresh": "true"})
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/lifecycle/school_year.html", context, status=status)


def _person(request: HttpRequest, child_pk: int | None) -> User:
    """The signed-in person, or one of their minor children (404 for anyone else, audited)."""
    user = request.user
    assert isinstance(user, User)
    if child_pk is None:
        return user
    child = personal_data.minor_children_of(user).filter(pk=child_pk).first()
    if child is None:
        record_refusal(kind="child_data", request=request, actor=user, target=child_pk)
        raise Http404
    return child


@login_required
def account_data(request: HttpRequest, child_pk: int | None = None) -> HttpResponse:
    """Everything the portal holds on the person (or their minor child), shown on one page."""
    person = _person(request, child_pk)
    user = request.user
    assert isinstance(user, User)
    return render(
        request,
        "accounts/data/my_data.html",
        {
            "person": person,
            "is_child": child_pk is not None,
            "data": personal_data.collect_personal_data(person),
            "children": personal_data.minor_children_of(user) if child_pk is None else [],
        },
    )


@login_required
def account_data_export(
    request: HttpRequest, fmt: str, child_pk: int | None = None
) -> HttpResponse:
    """The same data as a download: JSON (portable), HTML or PDF (readable); audited."""
    if fmt not in EXPORT_FORMATS:
        raise Http404
    person = _person(request, child_pk)
    data = personal_data.collect_personal_data(person)
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
    record_event(
        event_type=events.DATA_EXPORTED,
        request=request,
        actor=request.user,
        subject=person,
        data={"format": fmt, "child": child_pk is not None},
    )
    return response
