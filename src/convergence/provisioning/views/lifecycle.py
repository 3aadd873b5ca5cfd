"""Rentrée: closing the school year (the DSI only)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRefresh

from convergence.accounts.http import AuthenticatedRequest
from convergence.accounts.models import current_school_year as open_school_year
from convergence.accounts.permissions import dsi_required
from convergence.audit.models import AuditEvent
from convergence.provisioning import actions, events, tasks
from convergence.provisioning.forms import CloseSchoolYearForm


@dsi_required
def manage_school_year(request: AuthenticatedRequest) -> HttpResponse:
    """The open school year, what closing it would do (dry run), and closing it (POST).

    The closing itself runs in the task worker; the page says so until the year is closed.
    """
    user = request.user
    year = open_school_year()
    closing = tasks.school_year_closing()
    form = CloseSchoolYearForm(request.POST or None, initial={"year": year})
    if request.method == "POST" and form.is_valid():
        if closing is not None and not closing["failed"]:
            form.add_error(None, _("La clôture de l'année est déjà en cours."))
        else:
            tasks.start_school_year_closing(acting_user=user, year=form.cleaned_data["year"])
            return redirect("provisioning:school_year")
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
    if getattr(request, "htmx", False) and request.method == "GET" and closing is None:
        # The page polls while the closing runs; once done, show it whole again.
        return HttpResponseClientRefresh()
    status = 400 if request.method == "POST" else 200
    return render(request, "provisioning/lifecycle/school_year.html", context, status=status)
