"""Help URLs (French paths under /aide/), names reversed as ``help:…``."""

from django.urls import URLPattern, URLResolver

app_name = "help"

urlpatterns: list[URLPattern | URLResolver] = []
