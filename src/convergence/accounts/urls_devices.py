"""URLs of one part of an account's life (docs/accounts.md), included by accounts/urls.py."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
