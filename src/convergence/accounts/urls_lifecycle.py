"""URLs of one part of an account's life (docs/accounts.md), included by accounts/urls.py."""

from django.urls import URLPattern, URLResolver, path

from .views import lifecycle

urlpatterns: list[URLPattern | URLResolver] = [
    path("gestion/annee-scolaire/", lifecycle.manage_school_year, name="manage_school_year"),
    path("compte/mes-donnees/", lifecycle.account_data, name="account_data"),
    path(
        "compte/mes-donnees/export/<str:fmt>/",
        lifecycle.account_data_export,
        name="account_data_export",
    ),
    path(
        "compte/mes-donnees/enfant/<int:child_pk>/",
        lifecycle.account_data,
        name="account_data_child",
    ),
    path(
        "compte/mes-donnees/enfant/<int:child_pk>/export/<str:fmt>/",
        lifecycle.account_data_export,
        name="account_data_child_export",
    ),
]
