"""CAS 3.0 endpoints (filled by views/cas.py)."""

from django.urls import URLPattern, URLResolver

app_name = "cas"
urlpatterns: list[URLPattern | URLResolver] = []
