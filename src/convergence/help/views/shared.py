"""Help pages a fresh browser gets are the same for everyone: rendered once, kept in the cache
(``core.fragments``), like the sign-in page (``accounts/views/signin.py``).

A browser without a session or message cookie sees nothing of its own on a help page, so its
page is keyed only by what the page shows: the path and the profile asked (``?profil=``, one
of three), the guides' collection (files' times, drafts' version), the académie's facts the
shell prints, the language and the code. A signed-in person's page, a search with its free
text and a page asked with any other parameter are rendered live, never stored (the guide's
body still comes from the cache)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from convergence.accounts.models import Profile
from convergence.core import context_processors, fragments
from convergence.help import guides

# The only query parameter a cached page may carry, and its values: anything else (a search's
# free text, a parameter no page reads) is rendered live and never stored, so a visitor
# looping over ``?a=1``, ``?a=2``… cannot fill the cache with copies of one page.
CACHED_PROFILES = frozenset({"", *Profile.values})


def same_for_everyone(request: HttpRequest) -> bool:
    return (
        context_processors.shows_nothing_personal(request)
        and not getattr(request, "htmx", False)
        and len(request.path) <= 300
        and set(request.GET) <= {"profil"}
        and request.GET.get("profil", "") in CACHED_PROFILES
    )


def cached_page(request: HttpRequest, render: Callable[[], HttpResponse]) -> HttpResponse:
    """``render()``'s page (a 200: the view answers 404 before), from the cache for a fresh
    browser."""
    if not same_for_everyone(request):
        return render()
    key = fragments.key(
        "help-page",
        request.path,
        request.GET.get("profil", ""),
        guides.collection().signature,
        *context_processors.shell_facts(request),
    )

    def page() -> str:
        response = render()
        if hasattr(response, "render"):
            response.render()
        return response.content.decode()

    return HttpResponse(fragments.fill_csrf(fragments.cached(key, page), request))
