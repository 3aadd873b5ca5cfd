"""URLs of the mail rules and vacation pages (included at the root by convergence/urls.py)."""

from django.urls import path

from convergence.mail import rules_views

app_name = "mail_rules"

urlpatterns = [
    path("messagerie/regles/", rules_views.rules, name="rules"),
    path("messagerie/regles/action/", rules_views.act, name="act"),
    path("messagerie/regles/nouvelle/", rules_views.edit, name="new"),
    path("messagerie/regles/<int:number>/", rules_views.edit, name="edit"),
    path("messagerie/absence/", rules_views.vacation, name="vacation"),
]
