"""The notification centre, its preferences (and this person's devices for web push) and
the header's unread count. The service worker and the manifest are root routes
(``convergence/urls.py``)."""

from django.urls import path

from convergence.notifications import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.centre, name="centre"),
    path("notifications/compteur/", views.badge, name="badge"),
    path("notifications/preferences/", views.preferences, name="preferences"),
    path("notifications/tout-lire/", views.read_all, name="read_all"),
    path("notifications/<int:pk>/lue/", views.read_one, name="read"),
    path("notifications/<int:pk>/ouvrir/", views.open_one, name="open"),
    path("notifications/appareils/", views.push_subscribe, name="push_subscribe"),
    path(
        "notifications/appareils/<int:pk>/retirer/",
        views.push_unsubscribe,
        name="push_unsubscribe",
    ),
    path("notifications/appareils/essai/", views.push_test, name="push_test"),
]
