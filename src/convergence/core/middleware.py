"""HTTP security headers Django does not set itself: CSP, Permissions-Policy, CORP."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse

from convergence.core import errors, metrics, open_urls
from convergence.core.http import session_user_pk
from convergence.core.ratelimit import LimiterUnavailable
from convergence.core.views import render_error, render_unavailable

logger = logging.getLogger(__name__)

# Browsers apply form-action to the redirects that follow a form's submission too: a sign-in
# or consent form whose answer redirects to a service must name that service's origin. Apps
# register functions returning the origins a request's forms may lead to (single sign-on).
FormActionSource = Callable[[HttpRequest], Iterable[str]]
_FORM_ACTION_SOURCES: list[FormActionSource] = []
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$")


def register_form_action_source(source: FormActionSource) -> None:
    if source not in _FORM_ACTION_SOURCES:
        _FORM_ACTION_SOURCES.append(source)


def content_security_policy(form_action: Iterable[str] = ()) -> str:
    origins = sorted({origin for origin in form_action if _ORIGIN.match(origin)})
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            " ".join(["form-action 'self'", *origins]),
            "frame-ancestors 'none'",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    """Adds a strict CSP (no inline script or style) and related headers to every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        extra = [origin for source in _FORM_ACTION_SOURCES for origin in source(request)]
        response.headers.setdefault(
            "Content-Security-Policy",
            content_security_policy(extra) if extra else CONTENT_SECURITY_POLICY,
        )
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if "Cache-Control" not in response.headers and session_user_pk(request) is not None:
            # A shared school computer must not show a signed-in page from its cache after
            # sign-out (the Back button).
            response.headers["Cache-Control"] = "no-store, private"
        return response


class MaintenanceMiddleware:
    """While ``CONVERGENCE_MAINTENANCE`` is on, answer 503 (CONV-503) to everyone but staff.

    The pages the apps declare open during maintenance (``core.open_urls``: sign-in, static
    files, the error-code explanations, the administration) stay reachable so that the DSI
    can sign in and people can read what is happening.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        if settings.MAINTENANCE and not open_urls.is_open(
            request.path, open_urls.During.MAINTENANCE
        ):
            user = getattr(request, "user", None)
            if not (user is not None and user.is_authenticated and user.is_staff):
                response = render_error(request, errors.UNAVAILABLE)
                response.headers["Retry-After"] = "600"
                return response
        return self.get_response(request)


class RetryAfterMiddleware:
    """A form that refused an attempt for a delay (``request.retry_after`` seconds) makes its
    page a 429 with ``Retry-After``, whichever view rendered it (allauth's second-factor step).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        retry_after = getattr(request, "retry_after", None)
        if retry_after is not None and response.status_code in (200, 400):
            response.status_code = 429
            response.headers["Retry-After"] = str(int(retry_after))
        return response


class LimiterUnavailableMiddleware:
    """The shared cache holding the rate limits is down: a branded 503 with ``Retry-After``.

    Limits fail closed (``core.ratelimit``): an attempt that cannot be counted is not judged,
    and the person is told to come back shortly rather than shown a server error.
    """

    RETRY_AFTER_SECONDS = 30

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, LimiterUnavailable):
            return None
        # Rendered without the request: the cache that failed may hold the session too.
        return render_unavailable(self.RETRY_AFTER_SECONDS)


class AdmissionMiddleware:
    """Past capacity, refuse at once what waited too long instead of serving it too late.

    nginx stamps each request with the moment it accepted it (``X-Request-Start: t=<epoch
    seconds>``). A request that reaches the application after waiting longer than
    ``ADMISSION_MAX_WAIT_MS`` in the queues in between (nginx's, gunicorn's) is answered the
    branded 503 with ``Retry-After`` straight away, touching neither the database nor the
    cache: its reader is likely gone or about to retry, and serving it would only make the
    requests behind it wait longer. The sign-in is allowed twice that wait (people already
    typing their password are served first). Without the header (no proxy in front, the
    embedded mode) nothing is refused. A client can only forge the header against itself
    when it reaches gunicorn directly; nginx replaces it.
    """

    HEADER = "HTTP_X_REQUEST_START"
    RETRY_AFTER_SECONDS = 10
    # A wait longer than this is no wait nginx let happen (its own timeouts are shorter): the
    # clocks of nginx's host and this one disagree. Refusing would refuse everyone; it is
    # logged instead.
    IMPLAUSIBLE_WAIT_MS = 30_000
    PATIENT_PATHS = ("/connexion/",)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        limit_ms = settings.ADMISSION_MAX_WAIT_MS
        stamp = request.META.get(self.HEADER)
        if limit_ms > 0 and stamp:
            waited_ms = queue_wait_ms(str(stamp))
            patient = request.path in self.PATIENT_PATHS
            if patient:
                limit_ms *= 2
            if waited_ms is not None and waited_ms > self.IMPLAUSIBLE_WAIT_MS:
                logger.warning(
                    "X-Request-Start is %.0f s old: are the clocks of nginx and this host "
                    "synchronised (NTP)? Admission control ignores it.",
                    waited_ms / 1000,
                )
            elif waited_ms is not None and waited_ms > limit_ms:
                metrics.record_shed(patient)
                return render_unavailable(self.RETRY_AFTER_SECONDS)
        return self.get_response(request)


def queue_wait_ms(stamp: str) -> float | None:
    """Milliseconds since ``stamp`` (``t=1733390000.123``: nginx's ``$msec``), or None."""
    import math
    import time

    value = stamp.strip().removeprefix("t=")
    try:
        started = float(value)
    except ValueError:
        return None
    if not math.isfinite(started):
        return None
    return max(0.0, (time.time() - started) * 1000)
