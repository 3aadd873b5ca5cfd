"""The « me notifier » alerts: the mail server's notification, and the person opening or
dismissing one (the banner of the mail pages, the dashboard's widget)."""

from __future__ import annotations

from email.utils import parseaddr
from typing import cast
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from convergence.accounts.models import User
from convergence.core import ratelimit
from convergence.mail import alerts, connections, mailbox
from convergence.mail.models import MailAlert
from convergence.mail.servers import notifying_server
from convergence.mail.views import imap_page


@csrf_exempt
@require_POST
def server_notification(request: HttpRequest) -> HttpResponse:
    """The mail server tells the portal that a rule of ``login`` asked to be notified of a
    message (``sender``, ``subject``, ``message_id``). Only the académie's servers may call
    (their client credentials): 204 recorded (or already known), 401 not a server, 404 no
    such mailbox, 429 over the person's hourly limit, 503 the limiter is unreachable."""
    server = notifying_server(request)
    if server is None:
        return JsonResponse({"error": "unauthorized"}, status=401)
    user = alerts.mailbox_owner(request.POST.get("login", "")[:254])
    if user is None:
        return JsonResponse({"error": "unknown"}, status=404)
    try:
        alerts.record_alert(
            user=user,
            sender=request.POST.get("sender", "")[:1000],
            subject=request.POST.get("subject", "")[:1000],
            message_id=request.POST.get("message_id", "")[:1000],
            server=server,
        )
    except alerts.AlertsLimited as limited:
        response = JsonResponse({"error": "throttled"}, status=429)
        response["Retry-After"] = str(limited.retry_after)
        return response
    except ratelimit.LimiterUnavailable:
        response = JsonResponse({"error": "unavailable"}, status=503)
        response["Retry-After"] = "30"
        return response
    return HttpResponse(status=204)


def _back(request: HttpRequest) -> str:
    target = request.POST.get("retour", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("mail:inbox")


@imap_page
@require_POST
def alert_seen(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of the person's alerts seen; then back where they were (« Masquer ») or to
    the message, looked up in the INBOX by its sender and subject (« Voir le message »)."""
    user = cast(User, request.user)
    alert = get_object_or_404(MailAlert.objects.of(user), pk=pk)
    if request.POST.get("ouvrir") != "1":
        alerts.mark_alert_seen(user=user, alert=alert)
        return HttpResponseRedirect(_back(request))
    address = parseaddr(alert.sender)[1]
    query = mailbox.SearchQuery(sender=address, subject=alert.subject)
    with connections.session(user) as connection:
        found = mailbox.search(connection, mailbox.INBOX, query)
    # Seen once the server answered: a server that is down leaves the alert in the banner.
    alerts.mark_alert_seen(user=user, alert=alert)
    if found.messages:
        url = reverse("mail:message", args=[found.messages[0].uid])
        return HttpResponseRedirect(f"{url}?{urlencode({'dossier': mailbox.INBOX})}")
    # Filed elsewhere by a rule, or already moved: the search page, for the INBOX.
    search = {"dossier": mailbox.INBOX, "de": address, "objet": alert.subject}
    return HttpResponseRedirect(f"{reverse('mail:search')}?{urlencode(search)}")
