"""URLs of the sending limits (included at the root by convergence/urls.py): the DSI's page
and the mail relay's question before each message."""

from django.urls import path

from convergence.mail import limits_views

app_name = "mail_limits"

urlpatterns = [
    path("messagerie/envois/", limits_views.index, name="index"),
    path("messagerie/envois/suspendre/", limits_views.suspend, name="suspend"),
    path("messagerie/envois/<int:pk>/lever/", limits_views.lift, name="lift"),
    path("messagerie/serveur/envoi/", limits_views.server_sending, name="server_sending"),
]
