"""Error pages (each with a stable code from the registry), the error-code explanations, the
deferred dashboard widgets' URL, and the pages a public site owes (legal notice, personal
data, accessibility statement, site map)."""

from __future__ import annotations

import functools
import sys
from importlib import metadata

from django.contrib.auth.decorators import login_required
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET, require_safe
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from convergence.core import data_notice, errors, sitemap, widgets
from convergence.core import search as search_registry
from convergence.core.ratelimit import LimiterUnavailable


def render_error(request: HttpRequest, entry: errors.ErrorCode, **extra: object) -> HttpResponse:
    """Render the DSFR error page for ``entry`` with its HTTP status."""
    context = {"error": entry, **extra}
    errors.remember(request, entry.code)
    return render(request, "core/error.html", context, status=entry.status)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, errors.BAD_REQUEST)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, errors.FORBIDDEN)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render_error(request, errors.NOT_FOUND)


# How long a person is asked to wait when a dependency the portal needs is down.
OUTAGE_RETRY_AFTER_SECONDS = 30


def dependency_outage(exception: BaseException | None) -> bool:
    """Whether ``exception`` says a dependency is unreachable rather than that the code failed:
    the database refused or lost the connection (on PostgreSQL a statement timeout too, on
    SQLite "database is locked": all pass with time), the shared cache (Redis) did not answer,
    or the limiter could not count.

    Such a failure is temporary and not the request's fault: it is answered 503 with
    ``Retry-After``, not 500. A query error (a bug, a constraint) is not an outage.
    """
    return isinstance(
        exception,
        OperationalError
        | InterfaceError
        | RedisConnectionError
        | RedisTimeoutError
        | LimiterUnavailable,
    )


def render_unavailable(retry_after: int = OUTAGE_RETRY_AFTER_SECONDS) -> HttpResponse:
    """The branded 503 page with ``Retry-After``, rendered without the request: neither the
    session, the account nor any context processor is read, since one of them may be down."""
    content = loader.render_to_string(
        "core/error_standalone.html", {"error": errors.UNAVAILABLE, "retry_after": retry_after}
    )
    response = HttpResponse(content, status=errors.UNAVAILABLE.status)
    response.headers["Retry-After"] = str(retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler, called while the exception is being handled: an unreachable
    database or cache becomes the branded 503 with ``Retry-After`` (the person is told to come
    back shortly, a load balancer to retry elsewhere); anything else is the 500 page."""
    if dependency_outage(sys.exc_info()[1]):
        return render_unavailable()
    # Rendered without the request, so no context processor reads the database: the
    # database may be what failed.
    content = loader.render_to_string("core/error_standalone.html", {"error": errors.SERVER_ERROR})
    return HttpResponse(content, status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render_error(request, errors.CSRF_FAILED)


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """The header's search: every app's results for ``?q=`` (``core.search``), grouped."""
    query = (request.GET.get("q") or "").strip()[: search_registry.MAX_QUERY_LENGTH]
    groups = search_registry.search(request, query) if query else []
    return render(
        request,
        "core/search.html",
        {"query": query, "groups": groups, "found": sum(len(g.results) for g in groups)},
    )


@login_required
@require_GET
def widget(request: HttpRequest, slug: str) -> HttpResponse:
    """A deferred dashboard widget, fetched by htmx after the page (``core.widgets``).

    Always a fragment: the widget's own, nothing when it has nothing to show this person, or
    "momentanément indisponible" when its backend failed or did not answer in time.
    """
    entry = widgets.get(slug)
    if entry is None or entry.kind is not widgets.Kind.DEFERRED:
        raise Http404
    try:
        context = widgets.deferred_context(entry, request)
    except widgets.Unavailable:
        response = render(request, "core/_widget_unavailable.html", {"title": entry.title})
        response.headers["Cache-Control"] = "no-store, private"
        return response
    if context is None:
        return HttpResponse("")
    return render(request, entry.template, {"widget": context})


# --- What a public site owes: open to everyone, in the footer of every page --------------


@require_safe
def legal_notice(request: HttpRequest) -> HttpResponse:
    """Mentions légales: publisher, director of publication, host, software, rights, links."""
    return render(request, "core/legal/legal_notice.html", {"software": software()})


@require_safe
def personal_data_notice(request: HttpRequest) -> HttpResponse:
    """Données personnelles: what each app keeps and for how long (``core.data_notice``),
    rights, the DPO, cookies."""
    context = {"kept": data_notice.kept(), "cookies": data_notice.cookies()}
    return render(request, "core/legal/personal_data.html", context)


@require_safe
def accessibility(request: HttpRequest) -> HttpResponse:
    """Déclaration d'accessibilité, after the RGAA's model."""
    return render(request, "core/legal/accessibility.html")


@require_safe
def site_map(request: HttpRequest) -> HttpResponse:
    """Plan du site: the pages the apps registered (``core.sitemap``) this person may open."""
    context = {"sections": sitemap.sections_for(request.user)}
    return render(request, "core/legal/site_map.html", context)


@functools.cache
def software() -> dict[str, str]:
    """The software's name, version and licence, as the legal pages name them."""
    try:
        version = metadata.version("convergence")
        licence = (metadata.metadata("convergence").get_all("License") or ["EUPL-1.2"])[0]
    except metadata.PackageNotFoundError:
        version, licence = "", "EUPL-1.2"
    return {"name": "Convergence", "version": version, "licence": licence}
