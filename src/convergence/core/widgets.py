"""The dashboard's widget registry and the contract every widget follows.

Each app registers its widgets in ``AppConfig.ready()``. A widget is a template and a function
computing its context (``None``: nothing to show this person). It declares its kind:

* **inline** — cheap, from the cache or an indexed query of the database; computed while the
  dashboard is rendered, within ``budget_ms`` (1 ms by default). In debug the registry times
  every inline widget and logs the ones over budget, so a slow widget is seen when written.
* **deferred** — depends on a system outside the portal's database (IMAP, a probe, a remote
  API). The dashboard never calls it: it renders a French placeholder that htmx replaces
  after the page has loaded (``hx-trigger="load"``, or ``revealed`` for a widget below the
  fold) with the answer of the widget's own URL (``core:widget``). That URL computes the
  context in a worker thread with a hard ``timeout_seconds``; a failure or a timeout answers
  "momentanément indisponible". So a hung mail server delays one box, never the first byte of
  the dashboard.

A widget whose function fails is left out (inline) or shown as unavailable (deferred): one
dependency down degrades one widget, not the page. Each deferred widget given up is counted
in ``convergence_widget_unavailable_total`` (``core.metrics``), by widget and reason.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.http import HttpRequest
from django.urls import reverse

from convergence.core import metrics

logger = logging.getLogger(__name__)


class Kind(enum.Enum):
    INLINE = "inline"
    DEFERRED = "deferred"


class Trigger(enum.Enum):
    """When a deferred widget is fetched: as soon as the page has loaded, or when revealed."""

    LOAD = "load"
    REVEALED = "revealed"


@dataclass(frozen=True)
class Widget:
    slug: str
    template: str
    context: Callable[[HttpRequest], dict[str, Any] | None]
    order: int = 100
    kind: Kind = Kind.INLINE
    # What the placeholder and the failure message call the widget ("Messagerie").
    title: str = ""
    # Inline: the time the widget may take while the dashboard renders (logged in debug).
    budget_ms: float = 1.0
    # Deferred: the hard limit on computing the context at the widget's own URL.
    timeout_seconds: float = 3.0
    trigger: Trigger = Trigger.LOAD

    def __post_init__(self) -> None:
        if self.kind is Kind.DEFERRED and not self.title:
            raise ValueError(f"Deferred widget {self.slug!r} needs a title for its placeholder.")


_WIDGETS: dict[str, Widget] = {}


def register(widget: Widget) -> None:
    _WIDGETS[widget.slug] = widget


def unregister(slug: str) -> None:
    _WIDGETS.pop(slug, None)


def get(slug: str) -> Widget | None:
    return _WIDGETS.get(slug)


def _timed_context(widget: Widget, request: HttpRequest) -> dict[str, Any] | None:
    if not settings.DEBUG:
        return widget.context(request)
    started = time.perf_counter()
    try:
        return widget.context(request)
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1000
        if elapsed_ms > widget.budget_ms:
            logger.warning(
                "Widget %s took %.2f ms, over its %.2f ms budget (inline widgets must come "
                "from the cache or one indexed query; declare it deferred otherwise).",
                widget.slug,
                elapsed_ms,
                widget.budget_ms,
            )


def render_context(request: HttpRequest) -> list[dict[str, Any]]:
    """The widgets of this dashboard, in order: inline ones computed, deferred ones as a
    placeholder pointing at their URL (their function is not called here)."""
    shown = []
    for widget in sorted(_WIDGETS.values(), key=lambda w: (w.order, w.slug)):
        if widget.kind is Kind.DEFERRED:
            shown.append(
                {
                    "slug": widget.slug,
                    "deferred": True,
                    "title": widget.title,
                    "url": reverse("widget", args=[widget.slug]),
                    "trigger": widget.trigger.value,
                    # The browser gives up a little after the server would have.
                    "timeout_ms": int(widget.timeout_seconds * 1000) + 2000,
                }
            )
            continue
        try:
            context = _timed_context(widget, request)
        except Exception:
            logger.exception("Widget %s failed; it is left out of the dashboard.", widget.slug)
            continue
        if context is not None:
            shown.append({"slug": widget.slug, "template": widget.template, "context": context})
    return shown


# Deferred widgets run here, so that a request can stop waiting for a hung backend. The pool
# is bounded: when every thread is stuck on a dead server, further widgets answer
# "unavailable" at once instead of piling up threads.
_POOL_SIZE = 8
_pool = ThreadPoolExecutor(max_workers=_POOL_SIZE, thread_name_prefix="widget")
_busy = threading.BoundedSemaphore(_POOL_SIZE)


class Unavailable(Exception):
    """The deferred widget failed, timed out, or no worker thread was free."""


def _run_in_worker(
    widget: Widget, request: HttpRequest, place: threading.BoundedSemaphore
) -> dict[str, Any] | None:
    try:
        return widget.context(request)
    finally:
        # The worker thread's own database connection, if the widget opened one.
        close_old_connections()
        # The place it was given, not whatever ``_busy`` is by now (a widget that timed out
        # finishes later, maybe after a test replaced the semaphore).
        place.release()


def deferred_context(widget: Widget, request: HttpRequest) -> dict[str, Any] | None:
    """Compute a deferred widget's context within its timeout, or raise ``Unavailable``."""
    place = _busy
    if not place.acquire(blocking=False):
        logger.warning("Widget %s: every widget thread is busy.", widget.slug)
        metrics.WIDGET_UNAVAILABLE.labels(widget.slug, "saturated").inc()
        raise Unavailable(widget.slug)
    future: Future[dict[str, Any] | None] = _pool.submit(_run_in_worker, widget, request, place)
    try:
        return future.result(timeout=widget.timeout_seconds)
    except FutureTimeout:
        logger.warning("Widget %s timed out after %.1f s.", widget.slug, widget.timeout_seconds)
        metrics.WIDGET_UNAVAILABLE.labels(widget.slug, "timeout").inc()
        raise Unavailable(widget.slug) from None
    except Exception as error:
        logger.exception("Widget %s failed.", widget.slug)
        metrics.WIDGET_UNAVAILABLE.labels(widget.slug, "error").inc()
        raise Unavailable(widget.slug) from error
