"""The webmail's recipient suggestions: a listbox fragment that the address field asks for
with htmx as the person types (thin: throttle, ask ``directory``, render)."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from convergence.accounts.models import User
from convergence.accounts.permissions import mailbox_required
from convergence.core import ratelimit
from convergence.mail import contacts, directory

# Enough for someone typing several addresses in a minute; the directory of a whole
# académie cannot be read by trying every prefix (the 676 two-letter prefixes alone take
# over eleven minutes, at eight names each).
LOOKUPS_PER_MINUTE = 60
LOOKUP_WINDOW_SECONDS = 60
UNAVAILABLE_RETRY_SECONDS = 30


def _fragment(request: HttpRequest, *, status: int = 200, **context: object) -> HttpResponse:
    context.setdefault("recipients", [])
    context.setdefault("query", "")
    return render(request, "mail/_recipients.html", context, status=status)


@never_cache
@mailbox_required
@require_GET
def recipients(request: HttpRequest) -> HttpResponse:
    """The people the signed-in person may write to matching ``q``, as a listbox of options.
    Each lookup counts towards the person's limit; fewer than two characters look up
    nothing and count nothing."""
    person = cast(User, request.user)
    query = request.GET.get("q", "")[: directory.MAX_QUERY_LENGTH]
    if not directory.words_of(query):
        return _fragment(request, query=query, too_short=bool(query.strip()))
    try:
        wait = ratelimit.hit(
            ratelimit.key("mail-recipients", person.pk),
            limit=LOOKUPS_PER_MINUTE,
            window=LOOKUP_WINDOW_SECONDS,
        )
    except ratelimit.LimiterUnavailable:
        response = _fragment(
            request,
            status=503,
            query=query,
            error=_("La recherche de destinataires est momentanément indisponible."),
        )
        response["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
        return response
    if wait:
        response = _fragment(
            request,
            status=429,
            query=query,
            error=_(
                "Trop de recherches de destinataires en peu de temps : "
                "réessayez dans %(seconds)d secondes."
            )
            % {"seconds": wait},
        )
        response["Retry-After"] = str(wait)
        return response
    # Groups and class lists, contacts, addresses written to, then the directory.
    return _fragment(request, query=query, recipients=contacts.suggestions(person, query))
