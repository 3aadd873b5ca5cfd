"""The sending limits' pages: the DSI's « Envois de messages » (suspensions in force, who
reached a limit, suspend and lift), and the mail relay's question before each message (thin:
check, ask ``limits`` or ``limits_actions``, render)."""

from __future__ import annotations

import datetime
from typing import cast

from django.contrib import messages
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from convergence.accounts.models import User
from convergence.accounts.permissions import dsi_required
from convergence.audit.models import AuditEvent
from convergence.mail import events, limits, limits_actions
from convergence.mail.limits_forms import SuspensionForm
from convergence.mail.models import SendingCount, SendingSuspension
from convergence.mail.servers import mail_server

RECENT = datetime.timedelta(hours=24)
LISTED = 50


def _page(request: HttpRequest, form: SuspensionForm, *, status: int = 200) -> HttpResponse:
    since = timezone.now() - RECENT
    context = {
        "form": form,
        "suspensions": SendingSuspension.objects.in_force().select_related(
            "user", "establishment", "created_by"
        )[:200],
        "reached": AuditEvent.objects.of_type(events.SENDING_LIMIT_REACHED)
        .filter(occurred_at__gte=since)
        .select_related("subject")[:LISTED],
        "busiest": SendingCount.objects.filter(hour__gt=limits.current_hour() - RECENT)
        .values("user__login", "user__first_name", "user__last_name")
        .annotate(total=Sum("recipients"))
        .filter(total__gt=0)
        .order_by("-total")[:20],
    }
    return render(request, "mail/limits/index.html", context, status=status)


@dsi_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return _page(request, SuspensionForm())


@dsi_required
@require_POST
def suspend(request: HttpRequest) -> HttpResponse:
    form = SuspensionForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    data = form.cleaned_data
    suspension = limits_actions.suspend_sending(
        acting_user=cast(User, request.user),
        reason=data["motif"],
        user=data.get("user"),
        establishment=data.get("establishment"),
        request=request,
    )
    target = suspension.user.login if suspension.user else suspension.establishment
    messages.success(
        request,
        _("Envois suspendus pour %(target)s : le prochain message est refusé.")
        % {"target": target},
    )
    return HttpResponseRedirect(reverse("mail_limits:index"))


@dsi_required
@require_POST
def lift(request: HttpRequest, pk: int) -> HttpResponse:
    suspension = get_object_or_404(SendingSuspension, pk=pk)
    if limits_actions.lift_suspension(
        acting_user=cast(User, request.user), suspension=suspension, request=request
    ):
        messages.success(request, _("Suspension levée : les envois sont de nouveau possibles."))
    return HttpResponseRedirect(reverse("mail_limits:index"))


@csrf_exempt
@require_POST
def server_sending(request: HttpRequest) -> HttpResponse:
    """The mail relay's policy service (or the demo's submission server) asks before accepting
    a message: ``login`` (the SASL user), ``recipients`` (how many), ``sasl_method``. Only the
    académie's servers may ask. The answer: ``{"action": "allow"}`` or ``{"action":
    "refuse", "temporary": …, "text": …}`` (French, the relay makes it ASCII)."""
    server = mail_server(request)
    if server is None:
        return JsonResponse({"error": "unauthorized"}, status=401)
    try:
        recipients = int(request.POST.get("recipients", ""))
    except ValueError:
        return JsonResponse({"error": "recipients"}, status=400)
    if recipients < 0:
        return JsonResponse({"error": "recipients"}, status=400)
    verdict = limits.check_submission(
        login=request.POST.get("login", ""),
        recipients=recipients,
        sasl_method=request.POST.get("sasl_method", ""),
        request=request,
    )
    if verdict.allowed:
        return JsonResponse({"action": "allow"})
    return JsonResponse(
        {
            "action": "refuse",
            "kind": verdict.kind,
            "temporary": verdict.temporary,
            "text": verdict.smtp_text,
        }
    )
