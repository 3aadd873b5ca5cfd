"""Help pages a fresh browser gets are the same for everyone: rendered once, kept in the cache
(``core.fragments``), like the sign-in page (``accounts/views/signin.py``).

A browser without a session or message cookie sees nothing of its own on a help page, so its
page is keyed only by what the page shows: the path and query, the guides' collection (files'
times, drafts' version), the académie's facts the shell prints, the language and the code. A
signed-in person's page is rendered live (the guide's body still comes from the cache)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from convergence.core import context_processors, fragments
from convergence.help import guides


def same_for_everyone(request: HttpRequest) -> bool:
    return (
        context_processors.shows_nothing_personal(request)
        and not getattr(request, "htmx", False)
        and len(request.get_full_path()) <= 300
    )


def cached_page(request: HttpRequest, render: Callable[[], HttpResponse]) -> HttpResponse:
    """``render()``'s page (a 200: the view answers 404 before), from the cache for a fresh
    browser."""
    if not same_for_everyone(request):
        return render()
    key = fragments.key(
        "help-page",
        request.get_full_path(),
        guides.collection().signature,
        *context_processors.shell_facts(request),
    )

    def page() -> str:
        response = render()
        if hasattr(response, "render"):
            response.render()
        return response.content.decode()

    return HttpResponse(fragments.fill_csrf(fragments.cached(key, page), request))
