"""The notification centre, the preferences page (with this person's devices for web push),
the header's unread count, and the service worker and web-app manifest served at the root."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from convergence.accounts.http import AuthenticatedRequest
from convergence.core import ratelimit
from convergence.core.http import user_agent
from convergence.core.models import Academie
from convergence.core.notify import Category, is_local_path
from convergence.devices.labels import browser_label
from convergence.notifications import actions, counter, push, push_actions, tasks
from convergence.notifications.forms import PreferencesForm, SubscriptionForm
from convergence.notifications.models import Notification, PushSubscription
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
    return render(
        request,
        "notifications/preferences.html",
        {
            "form": form,
            "devices": PushSubscription.objects.of(request.user).order_by("-created_at", "-pk"),
            "application_server_key": push.public_key(),
            "subscribe_url": reverse("notifications:push_subscribe"),
        },
    )


def _refused(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@require_POST
def push_subscribe(request: HttpRequest) -> HttpResponse:
    """The browser's push subscription, posted as JSON by ``push.js`` (CSRF token in the
    ``X-CSRFToken`` header): 201 with the device's label, or a French message (429 with
    ``Retry-After`` past ``push_actions.SUBSCRIBE_PER_HOUR`` posts an hour)."""
    user = request.user
    if not user.is_authenticated:
        return _refused(_("Votre session a expiré : reconnectez-vous."), status=403)
    try:
        push_actions.count_subscription_attempt(acting_user=user)
    except push_actions.Throttled as throttled:
        minutes = max(1, throttled.retry_after // 60)
        response = _refused(
            ngettext(
                "Trop de demandes d'abonnement en peu de temps. Réessayez dans %(minutes)s minute.",
                "Trop de demandes d'abonnement en peu de temps. "
                "Réessayez dans %(minutes)s minutes.",
                minutes,
            )
            % {"minutes": minutes},
            status=429,
        )
        response["Retry-After"] = str(throttled.retry_after)
        return response
    except ratelimit.LimiterUnavailable:
        response = _refused(
            _("Le portail ne peut pas enregistrer cet appareil pour le moment : réessayez."),
            status=503,
        )
        response["Retry-After"] = "60"
        return response
    try:
        document = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        document = None
    form = SubscriptionForm.from_json(document)
    if not form.is_valid():
        errors = []
        if set(form.data) == set(form.fields):  # all there: say what is wrong
            errors = [str(error) for error in form.errors.get("endpoint", [])]
            errors += [str(error) for error in form.non_field_errors()]
        return _refused(errors[0] if errors else _("Abonnement du navigateur invalide."))
    subscription = push_actions.subscribe_device(
        acting_user=user,
        endpoint=form.cleaned_data["endpoint"],
        p256dh=form.cleaned_data["p256dh"],
        auth=form.cleaned_data["auth"],
        label=browser_label(user_agent(request)),
        request=request,
    )
    # Signing out of this session forgets this browser (receivers.forget_device_at_sign_out).
    request.session[push_actions.SESSION_ENDPOINT] = subscription.endpoint
    messages.success(request, _("Cet appareil recevra vos notifications."))
    return JsonResponse({"id": subscription.pk, "label": subscription.label}, status=201)


@login_required
@require_POST
def push_unsubscribe(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(PushSubscription.objects.of(request.user), pk=pk)
    push_actions.unsubscribe_device(
        acting_user=request.user, subscription=subscription, request=request
    )
    messages.success(request, _("Cet appareil ne recevra plus vos notifications."))
    return HttpResponseRedirect(reverse("notifications:preferences"))


@login_required
@require_POST
def push_test(request: AuthenticatedRequest) -> HttpResponse:
    try:
        devices = push_actions.request_test_push(
            acting_user=request.user, enqueue=tasks.send_test_push.enqueue
        )
    except push_actions.Throttled as throttled:
        response = render(
            request,
            "notifications/push_test_throttled.html",
            {"minutes": max(1, throttled.retry_after // 60)},
            status=429,
        )
        response["Retry-After"] = str(throttled.retry_after)
        return response
    if devices:
        messages.success(request, _("Notification d'essai envoyée à vos appareils."))
    else:
        messages.info(request, _("Aucun appareil ne reçoit encore vos notifications."))
    return HttpResponseRedirect(reverse("notifications:preferences"))


SERVICE_WORKER = Path(__file__).resolve().parent / "static" / "notifications" / "sw.js"


@cache
def _service_worker_source() -> str:
    return SERVICE_WORKER.read_text(encoding="utf-8")


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """``/sw.js``: the service worker, from the root so that its scope is the whole portal;
    the icon's address (hashed in production) comes first."""
    icon = json.dumps(static("notifications/icon-192.png"))
    source = f"self.NOTIFICATION_ICON = {icon};\n{_service_worker_source()}"
    response = HttpResponse(source, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def webmanifest(request: HttpRequest) -> HttpResponse:
    """``/manifest.webmanifest``: installs the portal on a phone's home screen."""
    name = Academie.current().name or settings.ACADEMIE_NAME
    document = {
        "name": f"Convergence — {name}",
        "short_name": "Convergence",
        "description": str(_("Le portail des services numériques de l'académie.")),
        "lang": "fr",
        "dir": "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": "#000091",
        "background_color": "#ffffff",
        "icons": [
            {"src": static("notifications/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("notifications/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("notifications/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False), content_type="application/manifest+json"
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response


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
