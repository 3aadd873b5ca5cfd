"""HTTP security headers Django does not set itself: CSP, Permissions-Policy, CORP."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    """Adds a strict CSP (no inline script or style) and related headers to every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response.headers:
            # A shared school computer must not show a signed-in page from its cache after
            # sign-out (the Back button).
            response.headers["Cache-Control"] = "no-store, private"
        return response


class MaintenanceMiddleware:
    """While ``CONVERGENCE_MAINTENANCE`` is on, answer 503 (CONV-503) to everyone but staff.

    Sign-in, static files and the error-code explanations stay reachable so that the DSI can
    sign in and people can read what is happening.
    """

    OPEN_PREFIXES = ("/static/", "/connexion/", "/aide/erreurs/", "/administration/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        if settings.MAINTENANCE and not request.path.startswith(self.OPEN_PREFIXES):
            user = getattr(request, "user", None)
            if not (user is not None and user.is_authenticated and user.is_staff):
                from . import errors
                from .views import render_error

                response = render_error(request, errors.UNAVAILABLE)
                response.headers["Retry-After"] = "600"
                return response
        return self.get_response(request)
