"""Account URLs in French; allauth's views are mounted under the names it reverses.

Password reset is the portal's own flow (urls_recovery.py), under allauth's names.
"""

from allauth.account import views as allauth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("", include("convergence.accounts.urls_activation")),
    path("", include("convergence.accounts.urls_recovery")),
    path("", include("convergence.accounts.urls_mfa")),
    path("", include("convergence.accounts.urls_devices")),
    path("", include("convergence.accounts.urls_imports")),
    path("", include("convergence.accounts.urls_lifecycle")),
    path("connexion/", views.LoginView.as_view(), name="account_login"),
    path("connexion/navigateur/", views.device_link_request, name="account_device_link_request"),
    path("connexion/navigateur/<str:token>/", views.device_link, name="account_device_link"),
    path("deconnexion/", allauth_views.logout, name="account_logout"),
    path("compte/", views.account, name="account"),
    path("compte/inactif/", allauth_views.account_inactive, name="account_inactive"),
    path(
        "compte/mot-de-passe/",
        views.PasswordChangeView.as_view(),
        name="account_change_password",
    ),
    path("compte/mot-de-passe/force/", views.password_strength, name="account_password_strength"),
]
