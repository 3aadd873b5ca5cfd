"""The notification centre, the preferences page and the header's unread count."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from convergence.accounts.http import AuthenticatedRequest
from convergence.core.notify import Category, is_local_path
from convergence.notifications import actions, counter
from convergence.notifications.forms import PreferencesForm
from convergence.notifications.models import Notification
from convergence.notifications.preferences import grid_of, schedule_of

PAGE_SIZE = 20
UNREAD = "non-lues"


def _filters(request: HttpRequest) -> tuple[str, bool]:
    category = request.GET.get("categorie", "")
    if category not in Category.values:
        category = ""
    return category, request.GET.get(UNREAD) == "1"


@login_required
@require_GET
def centre(request: AuthenticatedRequest) -> HttpResponse:
    """The person's notifications, newest first, filtered by category and unread."""
    category, unread = _filters(request)
    found = Notification.objects.of(request.user)
    if category:
        found = found.filter(category=category)
    if unread:
        found = found.unread()
    page = Paginator(found.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = {"categorie": category, UNREAD: "1" if unread else ""}
    return render(
        request,
        "notifications/centre.html",
        {
            "page": page,
            "categories": Category.choices,
            "category": category,
            "unread": unread,
            "unread_count": counter.unread(request.user.pk)[0],
            "filter_query": urlencode({key: value for key, value in query.items() if value}),
            "here": request.get_full_path(),
        },
    )


def _back(request: HttpRequest) -> str:
    target = request.POST.get("retour", "")
    if target.startswith(reverse("notifications:centre")) and is_local_path(target):
        return target
    return reverse("notifications:centre")


@login_required
@require_POST
def read_one(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification.objects.of(request.user), pk=pk)
    actions.mark_read(user=request.user, notification=notification)
    return HttpResponseRedirect(_back(request))


@login_required
@require_POST
def open_one(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Read the notification and follow its link (a local path; else back to the centre)."""
    notification = get_object_or_404(Notification.objects.of(request.user), pk=pk)
    actions.mark_read(user=request.user, notification=notification)
    if notification.url and is_local_path(notification.url):
        return HttpResponseRedirect(notification.url)
    return HttpResponseRedirect(_back(request))


@login_required
@require_POST
def read_all(request: AuthenticatedRequest) -> HttpResponse:
    category = request.POST.get("categorie", "")
    if category not in Category.values:
        category = ""
    done = actions.mark_all_read(user=request.user, category=category)
    if done:
        messages.success(request, _("Notifications marquées comme lues."))
    return HttpResponseRedirect(_back(request))


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: AuthenticatedRequest) -> HttpResponse:
    form = PreferencesForm(
        request.POST or None, grid=grid_of(request.user), schedule=schedule_of(request.user)
    )
    if request.method == "POST" and form.is_valid():
        actions.save_preferences(
            acting_user=request.user, grid=form.grid(), schedule=form.schedule(), request=request
        )
        messages.success(request, _("Préférences de notification enregistrées."))
        return HttpResponseRedirect(reverse("notifications:preferences"))
    return render(request, "notifications/preferences.html", {"form": form})


@require_GET
def badge(request: HttpRequest) -> HttpResponse:
    """The bell's unread count, polled every 30 s by the fragment itself (htmx). Two cache
    reads when nothing changed; an ETag of the count, so a browser that has it gets a 304
    without a body. Empty for a visitor (the polling stops with the session)."""
    user = request.user
    if not user.is_authenticated:
        return HttpResponse("")
    count, _version = counter.unread(user.pk)
    etag = f'"n{count}"'
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = render(request, "notifications/_badge.html", {"count": count})
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie"])
    return response


def inline_badge(user: Any) -> str:
    """The bell's badge rendered within the page (``core.header_links``): no request more on
    a first visit; the fragment then polls :func:`badge` every 30 s."""
    return render_to_string("notifications/_badge.html", {"count": counter.unread(user.pk)[0]})
