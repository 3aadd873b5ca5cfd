"""URLs of the webmail's directory pages (included at the root by convergence/urls.py)."""

from django.urls import path

from convergence.mail import directory_views

app_name = "mail_directory"

urlpatterns = [
    path("messagerie/destinataires/", directory_views.recipients, name="recipients"),
]
