"""``/api/v1/``: ninja's routes, each guarded (body size, problem documents for 404 and
405), then a catch-all answering a problem 404 for any other path below."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, re_path
from django.views.decorators.csrf import csrf_exempt

from convergence.api import errors
from convergence.api.main import api


def _max_body() -> int:
    return int(settings.API_MAX_BODY_BYTES)


@csrf_exempt
def not_found(request: HttpRequest) -> HttpResponse:
    """Any other path under /api/v1/: a problem document, not the portal's HTML page."""
    return errors.problem_response(errors.not_found())


def _guard(patterns: list[URLPattern | URLResolver]) -> list[URLPattern | URLResolver]:
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = errors.guarded(pattern.callback, max_body=_max_body)
    return patterns


_patterns, _app_name, _namespace = api.urls

# ninja reverses "api:api-root" to write the paths of its OpenAPI document.
app_name = api.urls_namespace
urlpatterns = [*_guard(list(_patterns)), re_path(r"^.*$", not_found)]
