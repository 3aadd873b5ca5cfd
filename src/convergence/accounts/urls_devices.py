"""URLs of one part of an account's life (docs/accounts.md), included by accounts/urls.py:
sessions ("Mes appareils"), recent activity, an administrator ending someone's sessions."""

from django.urls import URLPattern, URLResolver, path

from .views import devices

urlpatterns: list[URLPattern | URLResolver] = [
    path("compte/appareils/", devices.devices, name="account_devices"),
    path(
        "compte/appareils/<int:pk>/deconnecter/",
        devices.end_device,
        name="account_device_end",
    ),
    path(
        "compte/appareils/deconnecter-les-autres/",
        devices.end_other_devices,
        name="account_devices_end_others",
    ),
    path("compte/activite/", devices.activity, name="account_activity"),
    path(
        "gestion/comptes/<int:pk>/sessions/",
        devices.manage_end_sessions,
        name="manage_end_sessions",
    ),
]
