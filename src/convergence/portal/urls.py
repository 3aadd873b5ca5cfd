"""Portal URLs (French paths): the dashboard and favourites (namespaced), the management hub,
announcements."""

from django.urls import URLPattern, URLResolver, path

from convergence.portal.views import announcements, child, dashboard, manage

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
    # Announcements: what a person received, then the authors' pages.
    path("annonces/", announcements.announcement_list, name="announcements"),
    path("annonces/bloc/", announcements.board, name="announcements_board"),
    path("annonces/<int:pk>/", announcements.announcement_detail, name="announcement"),
    path("annonces/<int:pk>/lu/", announcements.acknowledge, name="announcement_acknowledge"),
    path(
        "annonces/<int:pk>/pieces-jointes/<int:attachment_pk>/",
        announcements.attachment,
        name="announcement_attachment",
    ),
    path("annonces/gestion/", announcements.manage_list, name="announcements_manage"),
    path("annonces/gestion/nouvelle/", announcements.manage_new, name="announcement_new"),
    path("annonces/gestion/<int:pk>/", announcements.manage_detail, name="announcement_manage"),
    path(
        "annonces/gestion/<int:pk>/modifier/",
        announcements.manage_edit,
        name="announcement_edit",
    ),
    path(
        "annonces/gestion/<int:pk>/publier/",
        announcements.manage_publish,
        name="announcement_publish",
    ),
    path(
        "annonces/gestion/<int:pk>/retirer/",
        announcements.manage_withdraw,
        name="announcement_withdraw",
    ),
    path(
        "annonces/gestion/<int:pk>/envoi/",
        announcements.manage_progress,
        name="announcement_progress",
    ),
    path(
        "annonces/gestion/<int:pk>/lectures/",
        announcements.manage_acknowledgements,
        name="announcement_acknowledgements",
    ),
]
