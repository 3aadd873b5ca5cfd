"""The help pages: the help home, a guide, the search (a page, and its results for htmx),
the guides' images, and the guide of every error code (``error_codes``, ``error_code``: global
names the error pages and the site map reverse)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from convergence.accounts.models import Profile
from convergence.core import errors
from convergence.help import guides, rendering, search
from convergence.help.rendering import IMAGE_NAME
from convergence.help.views.shared import cached_page

PROFILE_TITLES = {
    Profile.ELEVE.value: _("Pour les élèves"),
    Profile.PARENT.value: _("Pour les parents"),
    Profile.PERSONNEL.value: _("Pour les personnels"),
}


def _profile(request: HttpRequest) -> str:
    asked = request.GET.get("profil", "")
    return asked if asked in PROFILE_TITLES else ""


def _troubleshooter_url() -> str:
    try:
        return reverse("help:troubleshooter")
    except NoReverseMatch:
        return ""


def _common(request: HttpRequest, **context: object) -> dict[str, object]:
    return {
        "query": "",
        "profile": _profile(request),
        "profiles": PROFILE_TITLES,
        "troubleshooter_url": _troubleshooter_url(),
        **context,
    }


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The guides by profile (everyone's first), with the search and the other doors."""
    collection = guides.collection()
    profile = _profile(request)

    def page() -> HttpResponse:
        listed = [
            guide
            for guide in collection.ordered()
            if not guide.easy_read and guide.for_profile(profile)
        ]
        sections = [(_("Pour tout le monde"), [guide for guide in listed if not guide.profiles])]
        for key, title in PROFILE_TITLES.items():
            if not profile or key == profile:
                sections.append((title, [guide for guide in listed if key in guide.profiles]))
        context = _common(
            request, sections=[(t, g) for t, g in sections if g], signature=collection.signature
        )
        return render(request, "help/home.html", context)

    return cached_page(request, page)


@require_safe
def guide(request: HttpRequest, slug: str) -> HttpResponse:
    collection = guides.collection()
    found = collection.get(slug)
    if found is None:
        raise Http404

    def page() -> HttpResponse:
        body = rendering.render(found)
        codes = [entry for code in found.error_codes if (entry := errors.get(code)) is not None]
        context = _common(
            request,
            guide=found,
            body=body,
            contents=rendering.headings(body),
            easy_read_versions=collection.variants_of(found.slug),
            original=collection.get(found.variant_of) if found.variant_of else None,
            error_codes=codes,
        )
        return render(request, "help/guide.html", context)

    return cached_page(request, page)


@require_safe
def search_page(request: HttpRequest) -> HttpResponse:
    """``?q=`` (and ``?profil=``); htmx asks for the results alone while the person types."""
    query = request.GET.get("q", "").strip()
    profile = _profile(request)
    if getattr(request, "htmx", False):
        hits = search.search(query, profile or None) if query else []
        context = _common(request, query=query, hits=hits)
        return render(request, "help/_search_results.html", context)

    def page() -> HttpResponse:
        hits = search.search(query, profile or None) if query else []
        context = _common(request, query=query, hits=hits)
        return render(request, "help/search.html", context)

    return cached_page(request, page)


@require_safe
def image(request: HttpRequest, name: str) -> FileResponse:
    """An image of ``content/guides/images/``: a plain file name only, never a path."""
    if not IMAGE_NAME.match(name):
        raise Http404
    folder = (Path(settings.HELP_GUIDES_DIR) / "images").resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        raise Http404
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def error_codes(request: HttpRequest) -> HttpResponse:
    context = _common(request, codes=errors.all_codes())
    return cached_page(request, lambda: render(request, "help/error_codes.html", context))


@require_safe
def error_code(request: HttpRequest, code: str) -> HttpResponse:
    """A code's guide: the registry's entry (what happened, what to do), then each Markdown
    guide whose front matter names the code, in full."""
    entry = errors.get(code)
    if entry is None:
        raise Http404
    explained = [
        (found, rendering.render(found)) for found in guides.collection().for_error_code(entry.code)
    ]
    context = _common(request, error=entry, guides=explained)
    return cached_page(request, lambda: render(request, "help/error_code.html", context))
