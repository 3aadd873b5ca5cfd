"""Portal URLs (French paths): the dashboard and favourites (namespaced), the management hub."""

from django.urls import URLPattern, URLResolver, path

from convergence.portal.views import child, dashboard, manage

app_name = "portal"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", dashboard.dashboard, name="dashboard"),
    path("favoris/ordre/", dashboard.reorder, name="reorder"),
    path("favoris/<slug:slug>/epingler/", dashboard.pin, name="pin"),
    path("favoris/<slug:slug>/retirer/", dashboard.unpin, name="unpin"),
    path("favoris/<slug:slug>/deplacer/", dashboard.move, name="move"),
    path("enfants/<int:pk>/", child.child, name="child"),
    # The "Gestion des comptes" hub, from which the other apps' management pages open.
    path("gestion/comptes/", manage.manage_accounts, name="manage_accounts"),
    path("gestion/comptes/<int:pk>/", manage.manage_account, name="manage_account"),
]
