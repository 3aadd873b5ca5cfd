"""Activation letters: a batch for an establishment (progress, download), one reprinted.

Open to référents numériques and the DSI (``permissions.manager_required``); a batch is seen
only by whoever requested it or a DSI (``LetterBatch.objects.visible_to``).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from convergence.accounts import actions as accounts_actions
from convergence.accounts.http import AuthenticatedRequest
from convergence.accounts.models import User
from convergence.accounts.permissions import (
    OutsideDelegation,
    get_managed_account_or_404,
    is_dsi,
    manager_required,
)
from convergence.provisioning import actions, letters
from convergence.provisioning.forms import LetterBatchForm
from convergence.provisioning.models import JobState, LetterBatch


@manager_required
@require_POST
def manage_account_letter(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Reprint one activation letter (new code, the old one dies): a one-page PDF."""
    account = get_managed_account_or_404(request.user, pk)
    try:
        pdf = actions.reprint_activation_letter(
            acting_user=request.user, user=account, request=request
        )
    except accounts_actions.ActivationError as failure:
        messages.error(request, failure.message)
        return redirect("portal:manage_account", pk=account.pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="lettre-activation-{account.login}.pdf"'
    )
    response["Cache-Control"] = "no-store"
    return response


def _batch_or_404(actor: User, pk: int) -> LetterBatch:
    """The batch if ``actor`` may see it, else a 404 that the gate audits."""
    batch = LetterBatch.objects.visible_to(actor).filter(pk=pk).first()
    if batch is None:
        raise OutsideDelegation(kind="letter_batch", target=pk)
    return batch


@manager_required
def manage_letters(request: AuthenticatedRequest) -> HttpResponse:
    """Ask for a batch of letters (establishment, audience, optional class); recent batches."""
    actor = request.user
    form = LetterBatchForm(request.POST or None, actor=actor)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            batch = actions.request_letter_batch(
                acting_user=actor,
                establishment=data["establishment"],
                audience=data["audience"],
                division=data["division"],
            )
            return redirect("provisioning:letter_batch", pk=batch.pk)
        status = 400
    batches = LetterBatch.objects.visible_to(actor).order_by("-created_at")[:20]
    return render(
        request,
        "provisioning/letters.html",
        {
            "form": form,
            "batches": batches,
            "divisions": form.divisions(),
            "is_dsi": is_dsi(actor),
        },
        status=status,
    )


@manager_required
@never_cache
def manage_letter_batch(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A batch's progress (polled every 2 s by htmx while it runs), then its download link."""
    batch = _batch_or_404(request.user, pk)
    context = {
        "batch": batch,
        "running": batch.state in {JobState.PENDING, JobState.RUNNING},
        "file_available": batch.state == JobState.DONE and letters.batch_file(batch) is not None,
    }
    if getattr(request, "htmx", False):
        return render(request, "provisioning/_batch_progress.html", context)
    return render(request, "provisioning/letter_batch.html", context)


@manager_required
@never_cache
def manage_letter_batch_download(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """The batch's PDF, for whoever requested it or a DSI, until it is purged."""
    batch = _batch_or_404(request.user, pk)
    path = letters.batch_file(batch) if batch.state == JobState.DONE else None
    if path is None:
        messages.warning(
            request,
            _(
                "Ce fichier n'est plus disponible : les lettres sont supprimées 24 heures après "
                "leur production. Lancez une nouvelle production (les codes seront renouvelés)."
            ),
        )
        return redirect("provisioning:letter_batch", pk=batch.pk)
    filename = f"lettres-activation-{batch.establishment.uai}-{batch.pk}.pdf"
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf"
    )
    response["Cache-Control"] = "no-store"
    return response
