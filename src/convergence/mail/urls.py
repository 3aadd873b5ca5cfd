"""The webmail's pages, under /messagerie/."""

from django.urls import include, path

from convergence.mail import alerts_views, views

app_name = "mail"

urlpatterns = [
    path("messagerie/", views.inbox, name="inbox"),
    path("messagerie/recherche/", views.search, name="search"),
    path("messagerie/ecrire/", views.write, name="write"),
    path("messagerie/signature/", views.signature, name="signature"),
    path("messagerie/non-lus/", views.unread_badge, name="unread_badge"),
    path("messagerie/message/<int:uid>/", views.message, name="message"),
    path(
        "messagerie/message/<int:uid>/partie/<str:part_id>/",
        views.part,
        name="part",
    ),
    path("messagerie/actions/", views.act, name="act"),
    path("messagerie/corbeille/vider/", views.empty_trash, name="empty_trash"),
    path("messagerie/dossiers/", views.manage_folder, name="folders"),
    path("messagerie/expediteurs-de-confiance/", views.trust_sender, name="trust_sender"),
    path("messagerie/appareils/", views.devices, name="devices"),
    path(
        "messagerie/appareils/<int:pk>/revoquer/",
        views.revoke,
        name="revoke",
    ),
    path(
        "messagerie/serveur/authentification/",
        views.server_check,
        name="server_check",
    ),
    path(
        "messagerie/serveur/notification/",
        alerts_views.server_notification,
        name="server_notification",
    ),
    path("messagerie/alertes/<int:pk>/vue/", alerts_views.alert_seen, name="alert_seen"),
    path("messagerie/", include("convergence.mail.urls_phishing")),
]
