"""Portal URLs (French paths)."""

from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("favoris/ordre/", views.reorder, name="reorder"),
    path("favoris/<slug:slug>/epingler/", views.pin, name="pin"),
    path("favoris/<slug:slug>/retirer/", views.unpin, name="unpin"),
    path("favoris/<slug:slug>/deplacer/", views.move, name="move"),
]
