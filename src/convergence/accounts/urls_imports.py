"""URLs of one part of an account's life (docs/accounts.md), included by accounts/urls.py."""

from django.urls import URLPattern, URLResolver, path

from .views import imports

urlpatterns: list[URLPattern | URLResolver] = [
    path("gestion/imports/", imports.manage_imports, name="manage_imports"),
    path("gestion/imports/<int:pk>/", imports.manage_import, name="manage_import"),
    path(
        "gestion/imports/<int:pk>/appliquer/",
        imports.apply_import,
        name="manage_import_apply",
    ),
    path(
        "gestion/imports/<int:pk>/reprendre/",
        imports.resume_import,
        name="manage_import_resume",
    ),
]
