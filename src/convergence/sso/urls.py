"""CAS server under /cas/ and the account page's list of authorised services."""

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("cas/", include("convergence.sso.urls_cas")),
]
