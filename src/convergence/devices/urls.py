"""URLs of one part of an account's life (docs/accounts.md), included by convergence/urls.py:
sessions ("Mes appareils"), recent activity, an administrator ending someone's sessions."""

from django.urls import URLPattern, URLResolver, path

from convergence.devices import views as devices

app_name = "devices"

urlpatterns: list[URLPattern | URLResolver] = [
    path("compte/appareils/", devices.devices, name="list"),
    path(
        "compte/appareils/<slug:device_id>/deconnecter/",
        devices.end_device,
        name="end",
    ),
    path(
        "compte/appareils/deconnecter-les-autres/",
        devices.end_other_devices,
        name="end_others",
    ),
    path("compte/activite/", devices.activity, name="activity"),
    path(
        "gestion/comptes/<int:pk>/sessions/",
        devices.manage_end_sessions,
        name="manage_end_sessions",
    ),
]
