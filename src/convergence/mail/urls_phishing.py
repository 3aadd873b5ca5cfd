"""URLs of phishing defence, under /messagerie/ in the ``mail`` namespace (included by
mail/urls.py): reporting a message, and the DSI's campaigns."""

from django.urls import path

from convergence.mail import phishing_views

urlpatterns = [
    path("message/<int:uid>/signaler/", phishing_views.report, name="report_phishing"),
    path("hameconnage/", phishing_views.campaigns, name="phishing_campaigns"),
    path(
        "hameconnage/campagne/<int:pk>/",
        phishing_views.campaign,
        name="phishing_campaign",
    ),
]
