"""The public status pages: the page itself, a service's page, an incident's page, the Atom
feed and the JSON document, and the subscription of a signed-in person to a service.

Every public page reads the snapshot only (``status.snapshot.current()``), never the
database: it is what people reload when something is down, the database perhaps. A page is
rendered in the portal's shell (``core/base.html``), whose context processors read the
académie and the account; when one of them fails for an unreachable dependency the same
content is rendered in a standalone page instead (``status/standalone_page.html``), without
the request. A fresh browser (no session or message cookie) gets its page from the cache,
keyed by the snapshot's time and the shell's facts, as the help pages do.

Only the subscription reads the database: whether a signed-in person follows a service (one
query, the button hidden when it fails) and the subscription itself.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template import loader
from django.urls import reverse
from django.utils import feedgenerator, formats, timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from convergence.accounts.models import User
from convergence.core import context_processors, errors, fragments, links
from convergence.core.views import dependency_outage, render_error
from convergence.portal.models import Service
from convergence.status import actions, charts, snapshot
from convergence.status.models import Impact, Stage, State, Subscription
from convergence.status.presentation import duration, look, printable

logger = logging.getLogger(__name__)

API_VERSION = 1
# How long a browser, a proxy or another site may keep the feed and the JSON document.
PUBLIC_MAX_AGE = 15
# Resolved incidents listed on the page (all are in the feed and the JSON document).
RECENT_ON_PAGE = 5
DATE_FORMAT = "j F Y à H\\hi"


# --- Reading the snapshot ------------------------------------------------------------------


def _moment(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, dt.UTC)


def _when(value: object) -> str:
    """« 3 décembre 2026 à 14h05 », in local time; empty when unknown."""
    moment = _moment(value)
    if moment is None:
        return ""
    return formats.date_format(timezone.localtime(moment), DATE_FORMAT)


def _stage_label(stage: object) -> str:
    try:
        return str(Stage(str(stage)).label)
    except ValueError:
        return str(stage)


def _impact_label(impact: object) -> str:
    try:
        return str(Impact(str(impact)).label)
    except ValueError:
        return str(impact)


def _state_label(state: object) -> str:
    return str(look(str(state)).label)


def _names(current: dict[str, Any]) -> dict[str, str]:
    return {service["slug"]: service["name"] for service in current.get("services", [])}


def _service(entry: dict[str, Any], *, detailed: bool = False) -> dict[str, Any]:
    """A service of the snapshot, as the templates show it."""
    appearance = look(entry.get("state", State.UNKNOWN))
    uptime = entry.get("uptime") or {}
    days = entry.get("days") or []
    slug = entry["slug"]
    return {
        "slug": slug,
        "name": entry.get("name", slug),
        "state": entry.get("state", State.UNKNOWN),
        "label": str(appearance.label),
        "icon": appearance.icon,
        "tone": appearance.tone,
        "monitored": bool(entry.get("monitored")),
        "since": _when(entry.get("since")),
        "checked_at": _when(entry.get("checked_at")),
        "uptime": {period: charts.percent(uptime.get(period)) for period in ("24h", "7d", "90d")},
        "url": reverse("status:service", args=[slug]),
        "has_days": bool(days),
        "bars": charts.uptime_bars(days, ident=f"disponibilite-{slug}", detailed=detailed),
        # The table of days below 100 %: on the service's own page only.
        "detailed": detailed,
        "summary": charts.uptime_summary(days),
        "below": charts.days_below_full(days) if detailed else [],
        "response_ms": entry.get("response_ms") or [],
    }


def _incident(entry: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    opened = _moment(entry.get("opened_at"))
    resolved = _moment(entry.get("resolved_at"))
    updates = [
        {
            "stage": update.get("stage", ""),
            "stage_label": _stage_label(update.get("stage")),
            "message": update.get("message", ""),
            "posted_at": _when(update.get("posted_at")),
        }
        for update in entry.get("updates", [])
    ]
    return {
        "id": entry["id"],
        "title": entry.get("title", ""),
        "impact": entry.get("impact", ""),
        "impact_label": _impact_label(entry.get("impact")),
        "impact_tone": "error" if entry.get("impact") == Impact.DOWN else "warning",
        "stage_label": _stage_label(entry.get("stage")),
        "opened_at": _when(entry.get("opened_at")),
        "resolved_at": _when(entry.get("resolved_at")),
        "resolved": resolved is not None,
        "time_to_resolve": duration(resolved - opened) if opened and resolved else "",
        "services": [
            {
                "slug": slug,
                "name": names[slug],
                # Only a service of the snapshot has a page.
                "url": reverse("status:service", args=[slug]) if slug in names else "",
            }
            for slug in entry.get("services", [])
            if slug in names
        ],
        "latest": updates[0] if updates else None,
        "updates": updates,
        "postmortem": entry.get("postmortem", ""),
        "url": reverse("status:incident", args=[entry["id"]]),
    }


def _maintenance(entry: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": entry["id"],
        "title": entry.get("title", ""),
        "message": entry.get("message", ""),
        "starts_at": _when(entry.get("starts_at")),
        "ends_at": _when(entry.get("ends_at")),
        "active": bool(entry.get("active")),
        "services": [
            {"slug": slug, "name": names[slug]}
            for slug in entry.get("services", [])
            if slug in names
        ],
    }


# A snapshot older than this means the worker or the scheduler has stopped measuring: the
# pages say so rather than show old states as if they were current.
STALE_AFTER = dt.timedelta(minutes=3)


def _stale(current: dict[str, Any] | None) -> bool:
    made = _moment(current.get("generated_at")) if current else None
    return made is not None and timezone.now() - made > STALE_AFTER


def _common(current: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "current": current is not None,
        "stale": _stale(current),
        "generated_at": _when(current.get("generated_at")) if current else "",
        "feed_url": reverse("status:feed"),
        "api_url": reverse("status:api"),
        "page_url": reverse("status:page"),
    }


# --- Rendering: in the shell, from the cache, or standalone ---------------------------------


# The pages a fresh browser got lately, in this process, by (path, host, snapshot): a page
# reloaded by everyone when a service is down costs a dictionary lookup. Kept a second, so a
# renamed académie (in the shell of the page) shows within a second.
RECENT_PAGE_SECONDS = 1.0
SHARED_PAGE_SECONDS = 60
RECENT_PAGES_KEPT = 64
_recent_pages: dict[tuple[str, str, str], tuple[float, bytes]] = {}


def forget_recent_pages() -> None:
    """Tests: every page drawn again."""
    _recent_pages.clear()


def _fresh_browser(request: HttpRequest) -> bool:
    return (
        context_processors.shows_nothing_personal(request)
        and not getattr(request, "htmx", False)
        and len(request.path) <= 300
    )


def _respond(
    request: HttpRequest,
    *,
    template: str,
    body: str,
    title: str,
    build: Callable[[], dict[str, Any]],
    current: dict[str, Any] | None,
) -> HttpResponse:
    """``template`` (which extends the shell and includes ``body``) for this request, from the
    cache for a fresh browser; ``body`` in the standalone page when a dependency the shell
    reads is down. The context is built (``build``: charts, dates) only when the page is
    drawn, not when the cache has it."""
    made: dict[str, Any] = {}

    def full() -> dict[str, Any]:
        if not made:
            made.update(build(), title=title, body=body)
        return made

    def live() -> str:
        return loader.render_to_string(template, full(), request)

    def shared() -> str:
        # Kept for everyone. A fresh browser is shown no form to post (the header's search
        # is a GET): no CSRF token, so no per-response masking nor cookie.
        return loader.render_to_string(template, {**full(), "csrf_token": ""}, request)

    try:
        if _fresh_browser(request):
            # By path: no status page reads its query string, so ``?x=1``, ``?x=2``… are the
            # same page and cannot fill the cache with copies.
            stale = _stale(current)
            version = str(current.get("generated_at") or "") if current else ""
            memo_key = (request.path, request.get_host(), f"{version}{'!' if stale else ''}")
            remembered = _recent_pages.get(memo_key)
            if remembered is not None and time.monotonic() - remembered[0] < RECENT_PAGE_SECONDS:
                return HttpResponse(remembered[1])
            key = fragments.key(
                "status-page",
                request.path,
                current.get("generated_at") if current else "",
                stale,
                *context_processors.shell_facts(request),
            )
            # A new snapshot every round: a copy is not kept longer than a few rounds.
            html: str = fragments.fill_csrf(
                fragments.cached(key, shared, timeout=SHARED_PAGE_SECONDS), request
            )
            if len(_recent_pages) >= RECENT_PAGES_KEPT:
                _recent_pages.clear()
            _recent_pages[memo_key] = (time.monotonic(), html.encode())
        else:
            html = live()
    except Exception as exception:
        if not dependency_outage(exception):
            raise
        logger.warning("Status page rendered standalone: %s", exception.__class__.__name__)
        # Nothing that reads the request, the account or the database.
        html = loader.render_to_string(
            "status/standalone_page.html", {**full(), "subscribed": None, "standalone": True}
        )
    return HttpResponse(html)


def _not_found(request: HttpRequest) -> HttpResponse:
    """The portal's 404 page; the standalone one when its shell cannot be drawn (Django's own
    404 handler would turn the outage into a 503)."""
    try:
        return render_error(request, errors.NOT_FOUND)
    except Exception as exception:
        if not dependency_outage(exception):
            raise
        content = loader.render_to_string("core/error_standalone.html", {"error": errors.NOT_FOUND})
        return HttpResponse(content, status=errors.NOT_FOUND.status)


def _signed_in(request: HttpRequest) -> User | None:
    """The signed-in person, or None (also when their session cannot be read)."""
    if context_processors.shows_nothing_personal(request):
        return None
    try:
        user = request.user
        return user if isinstance(user, User) and user.is_authenticated else None
    except Exception as exception:
        if dependency_outage(exception):
            return None
        raise


# --- Pages ---------------------------------------------------------------------------------


@require_safe
def page(request: HttpRequest) -> HttpResponse:
    """Every service's state, the incidents in progress, the maintenance windows to come and
    in progress, the recently resolved incidents and each service's 90 days."""
    current = snapshot.current()

    def build() -> dict[str, Any]:
        context = _common(current)
        if current is not None:
            names = _names(current)
            incidents = [_incident(entry, names) for entry in current.get("incidents", [])]
            context.update(
                services=[_service(entry) for entry in current.get("services", [])],
                active_incidents=[item for item in incidents if not item["resolved"]],
                recent_incidents=[item for item in incidents if item["resolved"]][:RECENT_ON_PAGE],
                maintenances=[
                    _maintenance(entry, names) for entry in current.get("maintenances", [])
                ],
            )
        return context

    return _respond(
        request,
        template="status/page.html",
        body="status/_page_body.html",
        title=_("État des services"),
        build=build,
        current=current,
    )


def _found_service(current: dict[str, Any] | None, slug: str) -> dict[str, Any] | None:
    for entry in (current or {}).get("services", []):
        if entry.get("slug") == slug:
            return entry  # type: ignore[no-any-return]
    return None


def _subscribed(user: User | None, slug: str) -> bool | None:
    """Whether ``user`` follows the service (None: not signed in, or the database failed)."""
    if user is None:
        return None
    try:
        return Subscription.objects.filter(user=user, service__slug=slug).exists()
    except DatabaseError:
        logger.warning("Status: subscription of a person unreadable; the button is hidden.")
        return None


@require_safe
def service(request: HttpRequest, slug: str) -> HttpResponse:
    """One service: its state, uptimes, response times, 90 days and incidents; the
    subscription button for a signed-in person."""
    current = snapshot.current()
    found = _found_service(current, slug)
    if found is None or current is None:
        return _not_found(request)
    names = _names(current)
    signed_in = _signed_in(request)

    def build() -> dict[str, Any]:
        shown = _service(found, detailed=True)
        context = _common(current)
        context.update(
            service=shown,
            response_chart=charts.response_times(shown["response_ms"], ident=f"temps-{slug}"),
            response_summary=charts.response_summary(shown["response_ms"]),
            incidents=[
                _incident(entry, names)
                for entry in current.get("incidents", [])
                if slug in entry.get("services", [])
            ],
            maintenances=[
                _maintenance(entry, names)
                for entry in current.get("maintenances", [])
                if slug in entry.get("services", [])
            ],
            subscribed=_subscribed(signed_in, slug),
            sign_in_url=f"{reverse('account_login')}?{urlencode({'next': request.path})}",
        )
        return context

    return _respond(
        request,
        template="status/service.html",
        body="status/_service_body.html",
        title=_("État du service %(name)s") % {"name": found.get("name", slug)},
        build=build,
        current=current,
    )


@require_safe
def incident(request: HttpRequest, pk: int) -> HttpResponse:
    """A published incident: its updates, how long it lasted and its post-mortem."""
    current = snapshot.current() or {}
    entry = next((found for found in current.get("incidents", []) if found.get("id") == pk), None)
    if entry is None:
        return _not_found(request)
    shown = _incident(entry, _names(current))
    return _respond(
        request,
        template="status/incident.html",
        body="status/_incident_body.html",
        title=shown["title"],
        build=lambda: {**_common(current), "incident": shown},
        current=current,
    )


# --- Feed and JSON document ---------------------------------------------------------------


def _absolute(path: str, request: HttpRequest) -> str:
    """``path`` on the portal's official host (``core.links``); the settings' host when the
    académie cannot be read."""
    try:
        return links.absolute_url(path, request)
    except Exception as exception:
        if not dependency_outage(exception):
            raise
        scheme = "https" if settings.HTTPS else "http"
        return f"{scheme}://{settings.OFFICIAL_HOST or request.get_host()}{path}"


def _public(response: HttpResponse) -> HttpResponse:
    response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _tag(host_url: str, kind: str, ident: object) -> str:
    """A stable entry id: ``tag:<host>,2026:statut/<kind>/<id>`` (RFC 4151)."""
    host = host_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    return f"tag:{host},2026:statut/{kind}/{ident}"


class _StatusFeed(feedgenerator.Atom1Feed):
    """The feed's own ``updated``: its latest entry's time, leaving out the maintenance
    windows to come (their entries are dated by their start, which is ahead)."""

    def __init__(self, *args: Any, generated_at: dt.datetime | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.generated_at = generated_at

    def add_item(self, *args: Any, **kwargs: Any) -> None:
        # Whatever reached the snapshot, the feed stays well-formed XML.
        cleaned = {
            name: printable(value) if isinstance(value, str) else value
            for name, value in kwargs.items()
        }
        super().add_item(*args, **cleaned)  # type: ignore[arg-type]

    def latest_post_date(self) -> dt.datetime:
        now = timezone.now()
        dates = [
            item["updateddate"] or item["pubdate"]
            for item in self.items
            if (item["updateddate"] or item["pubdate"]) is not None
        ]
        past = [date for date in dates if date <= now]
        return max(past, default=self.generated_at or now)


@require_safe
def feed(request: HttpRequest) -> HttpResponse:
    """Atom 1.0: one entry per published incident (its latest update as summary) and per
    maintenance window to come or in progress."""
    current = snapshot.current() or {}
    page_url = _absolute(reverse("status:page"), request)
    atom = _StatusFeed(
        generated_at=_moment(current.get("generated_at")),
        title=_("État des services — Convergence"),
        link=page_url,
        description=_("Incidents et maintenances des services du portail."),
        language="fr",
        feed_url=_absolute(reverse("status:feed"), request),
        feed_guid=_absolute(reverse("status:feed"), request),
        author_name="Convergence",
    )
    names = _names(current)
    for entry in current.get("incidents", []):
        updates = entry.get("updates") or []
        latest = updates[0] if updates else {}
        opened = _moment(entry.get("opened_at"))
        updated = _moment(latest.get("posted_at")) or opened
        concerned = ", ".join(names[slug] for slug in entry.get("services", []) if slug in names)
        summary = _("%(stage)s — %(message)s (services concernés : %(services)s)") % {
            "stage": _stage_label(latest.get("stage", entry.get("stage"))),
            "message": latest.get("message", ""),
            "services": concerned,
        }
        atom.add_item(
            title=str(entry.get("title", "")),
            link=_absolute(reverse("status:incident", args=[entry["id"]]), request),
            description=escape(summary),
            unique_id=_tag(page_url, "incident", entry["id"]),
            unique_id_is_permalink=False,
            pubdate=opened,
            updateddate=updated,
            categories=[_impact_label(entry.get("impact"))],
        )
    for window in current.get("maintenances", []):
        starts = _moment(window.get("starts_at"))
        title = (
            _("Maintenance en cours : %(title)s")
            if window.get("active")
            else _("Maintenance prévue : %(title)s")
        ) % {"title": window.get("title", "")}
        summary = _("Du %(start)s au %(end)s (services concernés : %(services)s). %(message)s") % {
            "start": _when(window.get("starts_at")),
            "end": _when(window.get("ends_at")),
            "services": ", ".join(
                names[slug] for slug in window.get("services", []) if slug in names
            ),
            "message": window.get("message", ""),
        }
        atom.add_item(
            title=title,
            link=f"{page_url}#maintenance-{window['id']}",
            description=escape(summary),
            unique_id=_tag(page_url, "maintenance", window["id"]),
            unique_id_is_permalink=False,
            pubdate=starts,
            updateddate=starts,
            categories=[_("Maintenance")],
        )
    response = HttpResponse(content_type=atom.content_type)
    atom.write(response, "utf-8")
    return _public(response)


def document(current: dict[str, Any] | None) -> dict[str, Any]:
    """The JSON document, version 1 (``docs/status-api.md``): only fields added, never
    renamed or removed, without a new version."""
    if current is None:
        return {
            "version": API_VERSION,
            "generated_at": None,
            "services": [],
            "incidents": [],
            "maintenances": [],
        }
    return {
        "version": API_VERSION,
        "generated_at": current.get("generated_at"),
        "services": [
            {
                "slug": entry["slug"],
                "name": entry.get("name", entry["slug"]),
                "state": entry.get("state", State.UNKNOWN),
                "state_label": _state_label(entry.get("state", State.UNKNOWN)),
                "since": entry.get("since"),
                "uptime": {
                    period: (entry.get("uptime") or {}).get(period)
                    for period in ("24h", "7d", "90d")
                },
            }
            for entry in current.get("services", [])
        ],
        "incidents": [
            {
                "id": entry["id"],
                "title": entry.get("title", ""),
                "impact": entry.get("impact", ""),
                "impact_label": _impact_label(entry.get("impact")),
                "stage": entry.get("stage", ""),
                "stage_label": _stage_label(entry.get("stage")),
                "opened_at": entry.get("opened_at"),
                "resolved_at": entry.get("resolved_at"),
                "services": list(entry.get("services", [])),
                "postmortem": entry.get("postmortem", ""),
                "url": reverse("status:incident", args=[entry["id"]]),
                "updates": [
                    {
                        "stage": update.get("stage", ""),
                        "stage_label": _stage_label(update.get("stage")),
                        "message": update.get("message", ""),
                        "posted_at": update.get("posted_at"),
                    }
                    for update in entry.get("updates", [])
                ],
            }
            for entry in current.get("incidents", [])
        ],
        "maintenances": [
            {
                "id": window["id"],
                "title": window.get("title", ""),
                "message": window.get("message", ""),
                "starts_at": window.get("starts_at"),
                "ends_at": window.get("ends_at"),
                "active": bool(window.get("active")),
                "services": list(window.get("services", [])),
            }
            for window in current.get("maintenances", [])
        ],
    }


@require_safe
def api(request: HttpRequest) -> HttpResponse:
    """The JSON document every other site or tool may read (``docs/status-api.md``)."""
    body = json.dumps(document(snapshot.current()), ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    return _public(response)


# --- Subscription ------------------------------------------------------------------------


@login_required
@require_POST
def subscription(request: HttpRequest, slug: str) -> HttpResponse:
    """Follow or stop following a service the person may see (``action``: ``subscribe`` or
    ``unsubscribe``), then back to its page."""
    user = request.user
    assert isinstance(user, User)
    action = request.POST.get("action", "")
    # Following needs the service to be the person's; leaving one they no longer see (a
    # role ended) is always possible.
    choices = (
        Service.objects.visible_to(user)
        if action != "unsubscribe"
        else Service.objects.filter(subscriptions__user=user)
    )
    found = get_object_or_404(choices, slug=slug)
    handlers: dict[str, Callable[..., bool]] = {
        "subscribe": actions.subscribe,
        "unsubscribe": actions.unsubscribe,
    }
    if action not in handlers:
        return render_error(request, errors.BAD_REQUEST)
    changed = handlers[action](acting_user=user, service=found, request=request)
    if action == "subscribe":
        text = (
            _("Vous serez prévenu par courriel des incidents et maintenances de %(service)s.")
            if changed
            else _("Vous suivez déjà l'état de %(service)s.")
        )
    else:
        text = (
            _("Vous ne serez plus prévenu des incidents et maintenances de %(service)s.")
            if changed
            else _("Vous ne suiviez pas l'état de %(service)s.")
        )
    messages.success(request, text % {"service": found.name})
    return redirect("status:service", slug=found.slug)
