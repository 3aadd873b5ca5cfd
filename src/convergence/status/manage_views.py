"""The DSI's status pages under /gestion/statut/: confirm the probes' drafts, declare and
follow incidents, plan and cancel maintenance windows, see the probes.

Open to the DSI only (``permissions.dsi_required``). Each page validates with a form of
``status.forms`` and calls one action of ``status.actions``, which writes, audits, rebuilds
the snapshot and tells the subscribers; a ``StatusError`` is shown as it is worded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from convergence.accounts.http import AuthenticatedRequest
from convergence.accounts.permissions import dsi_required
from convergence.status import actions
from convergence.status.actions import StatusError
from convergence.status.forms import (
    DismissDraftForm,
    IncidentForm,
    MaintenanceForm,
    PostmortemForm,
    PublishDraftForm,
    UpdateForm,
)
from convergence.status.models import Incident, IncidentUpdate, Maintenance, Probe, Stage
from convergence.status.presentation import duration

# Resolved incidents listed on the overview.
RECENT_RESOLVED = 10
RECENT_RESOLVED_DAYS = 30


def _incidents() -> Any:
    return Incident.objects.prefetch_related("services")


@dsi_required
def overview(request: AuthenticatedRequest) -> HttpResponse:
    """Drafts to confirm, open and recent incidents, planned windows, the probes."""
    now = timezone.now()
    probes = list(Probe.objects.select_related("service"))
    resolved = list(
        _incidents()
        .filter(is_published=True, resolved_at__gte=now - dt.timedelta(days=RECENT_RESOLVED_DAYS))
        .order_by("-resolved_at")[:RECENT_RESOLVED]
    )
    return render(
        request,
        "status/manage/overview.html",
        {
            "drafts": _incidents().drafts(),
            "open_incidents": _incidents().published().unresolved(),
            "resolved": [(incident, duration(incident.time_to_resolve)) for incident in resolved],
            "windows": Maintenance.objects.upcoming(now).prefetch_related("services"),
            "probes": [(probe, probe.certificate_expires_soon(now)) for probe in probes],
            "now": now,
        },
    )


@dsi_required
@require_http_methods(["GET", "POST"])
def new_incident(request: AuthenticatedRequest) -> HttpResponse:
    """Declare an incident, published at once."""
    form = IncidentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = actions.open_incident(
                acting_user=request.user,
                title=data["title"],
                impact=data["impact"],
                services=list(data["services"]),
                stage=data["stage"],
                message=data["message"],
                publish=True,
                request=request,
            )
        except StatusError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("L'incident est publié sur la page d'état des services."))
            return redirect("status:manage_incident", pk=incident.pk)
    return render(request, "status/manage/new_incident.html", {"form": form})


def _forms_for(incident: Incident, data: Any = None, intent: str = "") -> dict[str, Any]:
    """The forms the incident's state offers, the one named by ``intent`` bound to ``data``."""
    first = incident.updates.order_by("posted_at", "pk").first()

    def bound(name: str) -> Any:
        return data if intent == name else None

    if incident.resolved_at is not None:
        return {
            "postmortem_form": PostmortemForm(
                bound("postmortem"), initial={"postmortem": incident.postmortem}
            )
        }
    if not incident.is_published:
        return {
            "publish_form": PublishDraftForm(
                bound("publish"),
                initial={
                    "title": incident.title,
                    "impact": incident.impact,
                    "message": first.message if first else "",
                },
            ),
            "dismiss_form": DismissDraftForm(bound("dismiss")),
        }
    return {"update_form": UpdateForm(bound("update"))}


def _apply(request: AuthenticatedRequest, incident: Incident, intent: str, form: Any) -> str:
    """Run the action ``intent`` names with ``form``'s data; the French success message."""
    data = form.cleaned_data
    if intent == "publish":
        actions.publish_draft(
            acting_user=request.user,
            incident=incident,
            title=data["title"],
            impact=data["impact"],
            message=data["message"],
            request=request,
        )
        return _("L'incident est publié : ses abonnés sont prévenus.")
    if intent == "dismiss":
        if incident.is_published:
            raise StatusError(_("Seul un brouillon peut être clos sans publication."))
        actions.post_update(
            acting_user=request.user,
            incident=incident,
            stage=Stage.RESOLVED,
            message=form.cleaned_message(),
            only_draft=True,
            request=request,
        )
        return _("Le brouillon est clos sans avoir été publié.")
    if intent == "update":
        actions.post_update(
            acting_user=request.user,
            incident=incident,
            stage=data["stage"],
            message=data["message"],
            request=request,
        )
        if data["stage"] == Stage.RESOLVED:
            return _("L'incident est résolu.")
        return _("La mise à jour est publiée.")
    actions.set_postmortem(
        acting_user=request.user, incident=incident, text=data["postmortem"], request=request
    )
    return _("Le retour d'expérience est enregistré.")


FORMS = {
    "publish": PublishDraftForm,
    "dismiss": DismissDraftForm,
    "update": UpdateForm,
    "postmortem": PostmortemForm,
}


@dsi_required
@require_http_methods(["GET", "POST"])
def manage_incident(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One incident and its updates; confirm or close a draft, follow it up, or write its
    retour d'expérience once resolved (the ``intent`` field names which)."""
    incident = get_object_or_404(
        _incidents().prefetch_related(
            Prefetch("updates", queryset=IncidentUpdate.objects.select_related("author"))
        ),
        pk=pk,
    )
    error = ""
    intent = request.POST.get("intent", "") if request.method == "POST" else ""
    forms = _forms_for(incident)
    if request.method == "POST":
        form_class = FORMS.get(intent)
        if form_class is None:
            return HttpResponseBadRequest()
        form = form_class(request.POST)
        if form.is_valid():
            try:
                done = _apply(request, incident, intent, form)
            except StatusError as refusal:
                error = str(refusal)
            else:
                messages.success(request, done)
                return redirect("status:manage_incident", pk=incident.pk)
        # The state's forms again, the one posted (if still offered) with its data and errors.
        forms = _forms_for(incident, request.POST, intent)
        key = f"{intent}_form"
        if key in forms:
            forms[key] = form
            if error:
                form.add_error(None, error)
                error = ""
    return render(
        request,
        "status/manage/incident.html",
        {
            "incident": incident,
            "updates": incident.updates.all(),
            "time_to_resolve": duration(incident.time_to_resolve),
            "error": error,
            **forms,
        },
    )


@dsi_required
@require_http_methods(["GET", "POST"])
def new_maintenance(request: AuthenticatedRequest) -> HttpResponse:
    """Plan a window; one overlapping a busy period of the school year is confirmed twice."""
    form = MaintenanceForm(request.POST if request.method == "POST" else None)
    warnings: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.schedule_maintenance(
                acting_user=request.user,
                title=data["title"],
                message=data["message"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                services=list(data["services"]),
                despite_busy_periods=data["confirm_peak"],
                request=request,
            )
        except actions.BusyPeriods as busy:
            warnings = busy.periods
        except StatusError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("La maintenance est programmée et annoncée sur la page d'état des services."),
            )
            return redirect("status:manage")
    return render(
        request,
        "status/manage/new_maintenance.html",
        {"form": form, "peak_warnings": warnings},
    )


@dsi_required
@require_POST
def cancel_maintenance(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Cancel a window not over yet; its subscribers are told."""
    window = get_object_or_404(Maintenance, pk=pk)
    try:
        actions.cancel_maintenance(acting_user=request.user, window=window, request=request)
    except StatusError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("La maintenance « %(title)s » est annulée.") % {"title": window.title}
        )
    return redirect("status:manage")
