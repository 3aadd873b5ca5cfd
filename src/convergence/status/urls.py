from django.urls import path

from convergence.status import manage_views, views

app_name = "status"

urlpatterns = [
    path("statut/", views.page, name="page"),
    path("statut/flux.atom", views.feed, name="feed"),
    path("statut/api.json", views.api, name="api"),
    path("statut/services/<slug:slug>/", views.service, name="service"),
    # Outside /statut/, which stays open during maintenance and before enrolment: a write.
    path("abonnements/statut/<slug:slug>/", views.subscription, name="subscription"),
    path("statut/incidents/<int:pk>/", views.incident, name="incident"),
    path("gestion/statut/", manage_views.overview, name="manage"),
    path("gestion/statut/incidents/nouveau/", manage_views.new_incident, name="new_incident"),
    path(
        "gestion/statut/incidents/<int:pk>/", manage_views.manage_incident, name="manage_incident"
    ),
    path(
        "gestion/statut/maintenances/nouvelle/",
        manage_views.new_maintenance,
        name="new_maintenance",
    ),
    path(
        "gestion/statut/maintenances/<int:pk>/annuler/",
        manage_views.cancel_maintenance,
        name="cancel_maintenance",
    ),
]
