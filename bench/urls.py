"""The application's URLs plus ``/bench/bare/``: the cheapest Django view, for comparison.

The bare view runs through the same middleware stack as every page but touches neither the
session nor the database, so dashboard ÷ bare is the cost of the dashboard itself.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from convergence.urls import handler400, handler403, handler404, handler500
from convergence.urls import urlpatterns as application_urlpatterns


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare), *application_urlpatterns]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
