"""Account URLs in French; allauth's views are mounted under the names it reverses."""

from allauth.account import views as allauth_views
from django.urls import include, path, re_path

from . import views

urlpatterns = [
    path("", include("convergence.accounts.urls_activation")),
    path("", include("convergence.accounts.urls_recovery")),
    path("", include("convergence.accounts.urls_mfa")),
    path("", include("convergence.accounts.urls_devices")),
    path("", include("convergence.accounts.urls_imports")),
    path("", include("convergence.accounts.urls_lifecycle")),
    path("connexion/", views.LoginView.as_view(), name="account_login"),
    path("deconnexion/", allauth_views.logout, name="account_logout"),
    path("compte/", views.account, name="account"),
    path("compte/inactif/", allauth_views.account_inactive, name="account_inactive"),
    path(
        "compte/mot-de-passe/",
        views.PasswordChangeView.as_view(),
        name="account_change_password",
    ),
    path("compte/mot-de-passe/force/", views.password_strength, name="account_password_strength"),
    path("mot-de-passe-oublie/", allauth_views.password_reset, name="account_reset_password"),
    path(
        "mot-de-passe-oublie/envoye/",
        allauth_views.password_reset_done,
        name="account_reset_password_done",
    ),
    re_path(
        r"^mot-de-passe-oublie/cle/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
        allauth_views.password_reset_from_key,
        name="account_reset_password_from_key",
    ),
    path(
        "mot-de-passe-oublie/termine/",
        allauth_views.password_reset_from_key_done,
        name="account_reset_password_from_key_done",
    ),
]
