"""Support URLs (French paths under /assistance/), names reversed as ``support:…``."""

from django.urls import path

from convergence.support import follow_up_views, ticket_views, views

app_name = "support"

urlpatterns = [
    path("", views.contacts, name="contacts"),
    path("demandes/", ticket_views.my_tickets, name="tickets"),
    path("demandes/nouvelle/", ticket_views.new_ticket, name="new_ticket"),
    path("demandes/sans-compte/", ticket_views.public_ticket, name="public_ticket"),
    path("demandes/file/", ticket_views.queue, name="queue"),
    path("demandes/suivi/<str:token>/", follow_up_views.follow_up_page, name="follow_up"),
    path(
        "demandes/suivi/<str:token>/pieces-jointes/<int:pk>/",
        follow_up_views.follow_up_attachment,
        name="follow_up_attachment",
    ),
    path("demandes/<str:reference>/", ticket_views.ticket_detail, name="ticket"),
    path(
        "demandes/<str:reference>/pieces-jointes/<int:pk>/",
        ticket_views.attachment,
        name="attachment",
    ),
]
