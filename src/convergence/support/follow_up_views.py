"""The follow-up page of a ticket opened without an account, reached by its private link
(``support/follow_up.py``): the thread without the internal notes, its files, a reply form,
reopening and rating. Thin: check the token, validate, call one action, render."""

from __future__ import annotations

from typing import TypeVar

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from convergence.audit.actions import record_refusal
from convergence.support import follow_up, tickets
from convergence.support.actions import tickets as actions
from convergence.support.forms import MessageForm, RatingForm
from convergence.support.models import Status, Ticket, TicketAttachment, TicketMessage
from convergence.support.ticket_views import download

R = TypeVar("R", bound=HttpResponseBase)

_HEADERS = {
    # The token is in the URL: no shared cache keeps the page, no other site learns the URL
    # from a link followed, no search engine lists it.
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
}


def _private(response: R) -> R:
    for name, value in _HEADERS.items():
        response[name] = value
    return response


def _ticket_or_page(request: HttpRequest, token: str) -> Ticket | HttpResponse:
    """The link's ticket, or the page saying how to get a new link (410 when it expired,
    404 when it was altered or no longer matches the ticket)."""
    try:
        return follow_up.ticket_of(token)
    except follow_up.ExpiredLink:
        expired = True
    except follow_up.InvalidLink:
        expired = False
        record_refusal(kind="support_follow_up", request=request)
    response = render(
        request,
        "support/follow_up_invalid.html",
        {"expired": expired, "days": follow_up.VALID_DAYS},
        status=410 if expired else 404,
    )
    return _private(response)


@require_http_methods(["GET", "POST"])
def follow_up_page(request: HttpRequest, token: str) -> HttpResponse:
    found = _ticket_or_page(request, token)
    if not isinstance(found, Ticket):
        return found
    ticket = found
    now = timezone.now()
    action = request.POST.get("action", "")
    message_form = MessageForm(
        request.POST if action == "reply" else None,
        request.FILES if action == "reply" else None,
    )
    rating_form = RatingForm(request.POST if action == "rate" else None)
    error, wait = "", 0
    status = 400 if request.method == "POST" else 200
    if request.method == "POST":
        try:
            if action == "reply" and ticket.is_open and message_form.is_valid():
                wait = follow_up.reply_wait(ticket)
                if not wait:
                    actions.reply(
                        acting_user=None,
                        ticket=ticket,
                        body=message_form.cleaned_data["body"],
                        as_agent=False,
                        attachments=message_form.cleaned_data["attachments"],
                    )
                    return _private(redirect(request.path))
                error = _("Trop de messages envoyés pour cette demande : réessayez dans une heure.")
                status = 429
            if action == "reopen":
                actions.reopen(acting_user=None, ticket=ticket, now=now)
                return _private(redirect(request.path))
            if action == "rate" and rating_form.is_valid():
                actions.rate(
                    acting_user=None,
                    ticket=ticket,
                    satisfaction=rating_form.cleaned_data["satisfaction"],
                )
                return _private(redirect(request.path))
        except actions.TicketError as refused:
            error, status = str(refused), 409
    response = render(
        request,
        "support/follow_up.html",
        {
            "ticket": ticket,
            "token": token,
            "messages_list": TicketMessage.objects.filter(ticket=ticket)
            .shown_to_requester()
            .prefetch_related("attachments"),
            "ticket_files": TicketAttachment.objects.filter(ticket=ticket, message__isnull=True),
            "message_form": message_form,
            "rating_form": rating_form,
            "may_reopen": tickets.may_reopen(ticket, now),
            "may_rate": ticket.status == Status.CLOSED and ticket.satisfaction is None,
            "error": error,
            "days": follow_up.VALID_DAYS,
        },
        status=status,
    )
    if wait:
        response["Retry-After"] = str(wait)
    return _private(response)


@require_http_methods(["GET", "HEAD"])
def follow_up_attachment(request: HttpRequest, token: str, pk: int) -> HttpResponseBase:
    """A file of the link's ticket, as the signed-in download gives it; never one of an
    internal note (404)."""
    found = _ticket_or_page(request, token)
    if not isinstance(found, Ticket):
        return found
    attachment = TicketAttachment.objects.filter(ticket=found, pk=pk).shown_to_requester().first()
    if attachment is None:
        record_refusal(
            kind="support_attachment", request=request, actor=None, target=f"{found.reference}/{pk}"
        )
        raise Http404(_("Pièce jointe introuvable."))
    return _private(download(attachment))
