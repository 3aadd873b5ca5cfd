"""Account imports for the DSI: upload, dry-run report with live progress, apply, resume."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from convergence.accounts.http import AuthenticatedRequest
from convergence.accounts.models import Role
from convergence.accounts.permissions import dsi_required
from convergence.provisioning import imports
from convergence.provisioning.actions import imports as import_actions
from convergence.provisioning.forms import ImportUploadForm
from convergence.provisioning.models import ImportJob, ImportKind, JobState

RECENT_JOBS = 20


def french_number(value: int) -> str:
    """``12000`` → ``"12 000"`` (no-break space), as French writes thousands."""
    return f"{value:,}".replace(",", "\u00a0")


@dsi_required
def manage_imports(request: AuthenticatedRequest) -> HttpResponse:
    """The upload form and the latest imports; a valid upload queues its dry run."""
    user = request.user
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = import_actions.create_import_job(
            acting_user=user,
            kind=form.cleaned_data["kind"],
            school_year=form.cleaned_data["school_year"],
            content=upload.chunks(),
            file_name=upload.name or "import.csv",
            request=request,
        )
        return redirect("provisioning:import", pk=job.pk)
    jobs = ImportJob.objects.select_related("requested_by").order_by("-pk")[:RECENT_JOBS]
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "provisioning/imports/list.html",
        {"form": form, "jobs": jobs, "kinds": _kinds(), "max_size": settings.IMPORT_MAX_FILE_MB},
        status=status,
    )


def _kinds() -> list[dict[str, Any]]:
    """Each kind of import with its documented columns (``imports.COLUMN_SPECS``)."""
    return [
        {"value": kind.value, "label": kind.label, "columns": imports.COLUMN_SPECS[kind]}
        for kind in ImportKind
    ]


@dsi_required
def import_guide(request: HttpRequest) -> HttpResponse:
    """How to prepare an import file: the columns of each kind, the function codes, the
    rules of an import — what docs/imports.md tells developers, for the DSI."""
    functions = [
        {"code": code, "meaning": imports.FUNCTION_LABELS[code], "role": Role(role).label}
        for code, role in imports.FUNCTION_ROLES.items()
    ]
    return render(
        request,
        "provisioning/imports/guide.html",
        {
            "kinds": _kinds(),
            "functions": functions,
            "max_size": settings.IMPORT_MAX_FILE_MB,
            "max_messages": imports.MAX_MESSAGES,
        },
    )


@dsi_required
def import_sample(request: HttpRequest, kind: str) -> HttpResponse:
    """A sample file of ``kind``, made from the columns the importer reads."""
    if kind not in ImportKind.values:
        raise Http404
    response = HttpResponse(imports.sample_csv(kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="exemple-{kind}.csv"'
    return response


@dsi_required
def manage_import(request: HttpRequest, pk: int) -> HttpResponse:
    """One job: progress while it runs (polled by htmx), then its report."""
    job = get_object_or_404(ImportJob.objects.select_related("requested_by"), pk=pk)
    report = job.report or {}
    running = job.state in {JobState.PENDING, JobState.RUNNING}
    context = {
        "job": job,
        "report": report,
        "running": running and not import_actions.can_resume(job),
        "counts": imports.count_rows(report),
        "samples": imports.sample_groups(report),
        "can_apply": import_actions.can_apply(job),
        "applied_run": import_actions.applied_run(job) if job.dry_run else None,
        "can_resume": import_actions.can_resume(job),
        "dry_run_job": report.get("dry_run_job"),
        "percent": round(100 * job.processed_rows / job.total_rows) if job.total_rows else 0,
        "processed_label": french_number(job.processed_rows),
        "total_label": french_number(job.total_rows),
    }
    partial = getattr(request, "htmx", False)
    template = "provisioning/imports/_status.html" if partial else "provisioning/imports/job.html"
    return render(request, template, context)


@require_POST
@dsi_required
def apply_import(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Queue the real run of a successful dry run."""
    user = request.user
    job = get_object_or_404(ImportJob, pk=pk)
    try:
        run = import_actions.apply_import_job(acting_user=user, job=job, request=request)
    except import_actions.ImportRefused as error:
        messages.error(request, str(error))
        return redirect("provisioning:import", pk=job.pk)
    messages.success(request, _("L'import est lancé."))
    return redirect("provisioning:import", pk=run.pk)


@require_POST
@dsi_required
def resume_import(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Queue an interrupted real run again."""
    user = request.user
    job = get_object_or_404(ImportJob, pk=pk)
    try:
        import_actions.resume_import_job(acting_user=user, job=job, request=request)
    except import_actions.ImportRefused as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("L'import reprend."))
    return redirect("provisioning:import", pk=job.pk)
