"""The notification centre, its preferences and the header's unread count."""

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
]
