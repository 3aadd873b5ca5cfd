"""Prometheus metrics: requests per view, requests shed, deferred widgets given up, the task
queue's depth.

Everything here is a counter, a histogram or a value computed at scrape time; labels are
bounded sets (URL names, HTTP methods, status classes, widget slugs), never a path, a person
or a secret. Other apps define their own metrics beside their code (``audit.metrics``).

``/metrics`` is answered by ``core.health.HealthMiddleware`` before the session, the account
or the database are touched, for a bearer token (``METRICS_TOKEN``) or an address of
``METRICS_ALLOWED_ADDRESSES`` only; anyone else goes on through the stack to the portal's
usual 404, as for a page that does not exist.

Several processes (gunicorn workers) each count their own requests: with
``PROMETHEUS_MULTIPROC_DIR`` set (an empty directory, emptied at each start) the scrape adds up
every process's files, and gunicorn's ``child_exit`` hook must be :func:`child_exit`.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

REQUEST_SECONDS = Histogram(
    "convergence_http_request_duration_seconds",
    "Time to answer a request, per URL name, method and status class "
    "(its _count is the number of requests).",
    ["view", "method", "status"],
)
WIDGET_UNAVAILABLE = Counter(
    "convergence_widget_unavailable",
    "Deferred dashboard widgets answered 'unavailable', per widget and reason "
    "(timeout, error, saturated: no worker thread free).",
    ["widget", "reason"],
)
REQUESTS_SHED = Counter(
    "convergence_requests_shed",
    "Requests refused at once (503) by admission control after waiting too long behind the "
    "proxy (core.middleware.AdmissionMiddleware), sign-in pages apart.",
    ["page"],
)
COLLECT_ERRORS = Counter(
    "convergence_metrics_collect_errors",
    "Scrapes where a value computed at scrape time (the task queue's depth) could not be read.",
)

UNRESOLVED_VIEW = "unresolved"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def view_label(request: HttpRequest) -> str:
    """The URL name of the view that answered, or ``unresolved`` (404s, early answers)."""
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None and match.view_name else UNRESOLVED_VIEW


def method_label(request: HttpRequest) -> str:
    method = (request.method or "").upper()
    return method if method in _METHODS else "other"


def status_label(status_code: int) -> str:
    return f"{status_code // 100}xx"


class RequestMetricsMiddleware:
    """Times every response, those made by inner middleware included (maintenance 503s)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        REQUEST_SECONDS.labels(
            view_label(request), method_label(request), status_label(response.status_code)
        ).observe(time.perf_counter() - started)
        return response


def record_shed(sign_in: bool) -> None:
    """Count one request refused by admission control (``sign_in``: a sign-in page)."""
    REQUESTS_SHED.labels("sign_in" if sign_in else "other").inc()


# --- The task queue's depth, computed at scrape time ---------------------------------------


def queue_depths() -> dict[str, int]:
    """Tasks waiting to run, per queue, for the configured backend ({} if neither is known)."""
    options = settings.TASKS["default"]
    backend = str(options["BACKEND"])
    if backend == "django_tasks_db.DatabaseBackend":
        from django.db.models import Count
        from django_tasks.base import TaskResultStatus
        from django_tasks_db.models import DBTaskResult

        rows = (
            DBTaskResult.objects.filter(status=TaskResultStatus.READY)
            .values("queue_name")
            .annotate(waiting=Count("id"))
        )
        # An empty queue is a 0, not a missing series (an alert on "absent" would fire).
        depths = dict.fromkeys(options.get("QUEUES", ["default"]), 0)
        depths.update({row["queue_name"]: row["waiting"] for row in rows})
        return depths
    from convergence.core import taskqueue

    if taskqueue.uses_rq():
        import django_rq

        return {
            name: int(django_rq.get_queue(name).count)
            for name in getattr(settings, "RQ_QUEUES", {})
        }
    return {}


class QueueDepthCollector(Collector):
    """``convergence_task_queue_depth{queue}``; left out of the scrape when it cannot be read."""

    NAME = "convergence_task_queue_depth"
    DOCUMENTATION = "Tasks waiting to be run, per queue (read at scrape time)."

    def describe(self) -> Iterable[Metric]:
        # Registering calls describe(), not collect(): no query at import.
        return [GaugeMetricFamily(self.NAME, self.DOCUMENTATION, labels=["queue"])]

    def collect(self) -> Iterable[Metric]:
        try:
            depths = queue_depths()
        except Exception:
            logger.exception("The task queue's depth could not be read for /metrics.")
            COLLECT_ERRORS.inc()
            return []
        gauge = GaugeMetricFamily(self.NAME, self.DOCUMENTATION, labels=["queue"])
        for queue, depth in sorted(depths.items()):
            gauge.add_metric([queue], depth)
        return [gauge]


_QUEUE_DEPTH = QueueDepthCollector()
REGISTRY.register(_QUEUE_DEPTH)


def registry() -> CollectorRegistry:
    """This process's registry, or with several processes one adding up all their files."""
    if not settings.METRICS_MULTIPROC_DIR:
        return REGISTRY
    aggregated = CollectorRegistry()
    # prometheus_client leaves these two functions unannotated.
    multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
        aggregated, path=settings.METRICS_MULTIPROC_DIR
    )
    aggregated.register(_QUEUE_DEPTH)
    return aggregated


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook: forget a dead worker's live values.

    In ``deploy/gunicorn.conf.py``: ``from convergence.core.metrics import child_exit``.
    It runs in gunicorn's master, where Django's settings may not be loaded: prometheus_client
    reads ``PROMETHEUS_MULTIPROC_DIR`` from the environment itself.
    """
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


# --- /metrics --------------------------------------------------------------------------------


def _bearer_token(request: HttpRequest) -> str:
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


# Headers a reverse proxy adds: their presence means REMOTE_ADDR is the proxy's address.
_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def may_read_metrics(request: HttpRequest) -> bool:
    """A scraper with the token, or one connecting straight from an allowed address.

    The address is the TCP peer's (``REMOTE_ADDR``), never ``X-Forwarded-For``, which anyone
    may write. A request relayed by a reverse proxy (nginx sets ``X-Forwarded-For``) comes from
    the proxy's address, often 127.0.0.1, whoever sent it: it needs the token.
    """
    expected = settings.METRICS_TOKEN
    token = _bearer_token(request)
    if expected and token and hmac.compare_digest(token.encode(), expected.encode()):
        return True
    if any(header in request.META for header in _PROXY_HEADERS):
        return False
    return request.META.get("REMOTE_ADDR", "") in settings.METRICS_ALLOWED_ADDRESSES


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The metrics in Prometheus's text format (for a reader ``may_read_metrics`` allowed)."""
    response = HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response
