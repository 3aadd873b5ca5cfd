"""Support URLs (French paths under /assistance/), names reversed as ``support:…``."""

from django.urls import path

from convergence.support import ticket_views, views

app_name = "support"

urlpatterns = [
    path("", views.contacts, name="contacts"),
    path("demandes/", ticket_views.my_tickets, name="tickets"),
    path("demandes/nouvelle/", ticket_views.new_ticket, name="new_ticket"),
    path("demandes/sans-compte/", ticket_views.public_ticket, name="public_ticket"),
    path("demandes/file/", ticket_views.queue, name="queue"),
    path("demandes/<str:reference>/", ticket_views.ticket_detail, name="ticket"),
    path(
        "demandes/<str:reference>/pieces-jointes/<int:pk>/",
        ticket_views.attachment,
        name="attachment",
    ),
]
