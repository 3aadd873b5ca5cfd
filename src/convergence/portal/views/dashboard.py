"""Dashboard and favourites: validate, call one action, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from convergence.accounts.http import AuthenticatedRequest
from convergence.core import search, widgets
from convergence.portal import actions, catalogue
from convergence.portal.announcements import board_of
from convergence.portal.catalogue import Catalogue
from convergence.portal.models import Service
from convergence.portal.search import find_services


def _catalogue_context(request: AuthenticatedRequest) -> dict[str, object]:
    """The favourites and the catalogue, live: its sections without a search, the services
    found (``portal.search``) with one."""
    query = (request.GET.get("q") or request.POST.get("q") or "")[: search.MAX_QUERY_LENGTH]
    catalogue = Catalogue.for_request(request)
    by_pk = Service.objects.in_bulk(catalogue.services)
    context = catalogue.template_context(by_pk)
    if query.strip():
        context["query"] = query
        asked = search.query_terms(query)
        context["services"] = find_services(
            (by_pk[pk] for pk in catalogue.services if pk in by_pk), asked
        )
    return context


@login_required
@require_GET
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    if getattr(request, "htmx", False) and request.GET.get("partial") == "catalogue":
        return render(request, "portal/_catalogue.html", _catalogue_context(request))
    if (request.GET.get("q") or "").strip():
        context = _catalogue_context(request)
    else:
        # Without a search, what every visitor sees comes from the cache (portal/catalogue.py).
        context = {
            "query": "",
            "favourites_and_catalogue": catalogue.render_favourites_and_catalogue(
                request, request.user
            ),
        }
    context["widgets"] = widgets.render_context(request)
    # From the cache while nothing changed (portal/announcements.py), then polled by itself.
    context["announcements"] = board_of(request.user)
    return render(request, "portal/dashboard.html", context)


def _visible_service(request: AuthenticatedRequest, slug: str) -> Service:
    return get_object_or_404(Service.objects.visible_to(request.user), slug=slug)


def _after_favourite_change(request: AuthenticatedRequest) -> HttpResponse:
    if getattr(request, "htmx", False):
        return render(request, "portal/_favourites_and_catalogue.html", _catalogue_context(request))
    return redirect("portal:dashboard")


@login_required
@require_POST
def pin(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    actions.pin_service(acting_user=request.user, service=_visible_service(request, slug))
    return _after_favourite_change(request)


@login_required
@require_POST
def unpin(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    service = get_object_or_404(Service, slug=slug)
    actions.unpin_service(acting_user=request.user, service=service)
    return _after_favourite_change(request)


@login_required
@require_POST
def move(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    offset = -1 if request.POST.get("direction") == "up" else 1
    service = get_object_or_404(Service, slug=slug)
    actions.move_favourite(acting_user=request.user, service=service, offset=offset)
    return _after_favourite_change(request)


@login_required
@require_POST
def reorder(request: AuthenticatedRequest) -> HttpResponse:
    """Order sent by drag and drop: the service slugs in their new order."""
    slugs = request.POST.getlist("order")[:200]
    ids = dict(Service.objects.filter(slug__in=slugs).values_list("slug", "pk"))
    actions.reorder_favourites(
        acting_user=request.user, service_ids=[ids[slug] for slug in slugs if slug in ids]
    )
    return _after_favourite_change(request)
