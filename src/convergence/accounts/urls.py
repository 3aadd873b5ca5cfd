"""Account URLs in French; allauth's views are mounted under the names it reverses.

Password reset is the portal's own flow (views/recovery.py), under the four
``account_reset_password*`` names allauth reverses.
"""

from allauth.account import views as allauth_views
from django.urls import URLPattern, URLResolver, path

from convergence.accounts import views
from convergence.accounts.views import activation, data, recovery

# The pages allauth reverses by their global names (included without a namespace).
allauth_urlpatterns: list[URLPattern | URLResolver] = [
    path("connexion/", views.LoginView.as_view(), name="account_login"),
    path("deconnexion/", allauth_views.logout, name="account_logout"),
    path("compte/inactif/", allauth_views.account_inactive, name="account_inactive"),
    path(
        "compte/mot-de-passe/",
        views.PasswordChangeView.as_view(),
        name="account_change_password",
    ),
    # Forgotten password (e-mail link or SMS code), forgotten login, référent password reset.
    path("mot-de-passe-oublie/", recovery.password_reset, name="account_reset_password"),
    path(
        "mot-de-passe-oublie/envoye/",
        recovery.password_reset_done,
        name="account_reset_password_done",
    ),
    path(
        "mot-de-passe-oublie/cle/<str:key>/",
        recovery.password_reset_from_key,
        name="account_reset_password_from_key",
    ),
    path(
        "mot-de-passe-oublie/termine/",
        recovery.password_reset_complete,
        name="account_reset_password_from_key_done",
    ),
]

app_name = "accounts"

urlpatterns: list[URLPattern | URLResolver] = [
    path("connexion/navigateur/", views.device_link_request, name="device_link_request"),
    path("connexion/navigateur/<str:token>/", views.device_link, name="device_link"),
    path("compte/", views.account, name="account"),
    path("compte/mot-de-passe/force/", views.password_strength, name="password_strength"),
    # Activation of an invited account, and the recovery contacts it asks for.
    path("activation/", activation.activation, name="activation"),
    path("activation/mot-de-passe/", activation.activation_password, name="activation_password"),
    path("activation/secours/", activation.activation_recovery, name="activation_recovery"),
    path("compte/secours/", activation.account_recovery, name="recovery"),
    path("mot-de-passe-oublie/code/", recovery.password_reset_code, name="password_reset_code"),
    path("mot-de-passe-oublie/nouveau/", recovery.password_reset_new, name="password_reset_new"),
    path("identifiant-oublie/", recovery.forgot_login, name="forgot_login"),
    path("identifiant-oublie/envoye/", recovery.forgot_login_done, name="forgot_login_done"),
    path(
        "gestion/comptes/<int:pk>/mot-de-passe/",
        recovery.manage_reset_password,
        name="manage_reset_password",
    ),
    # "Mes données", for the person and their minor children.
    path("compte/mes-donnees/", data.account_data, name="data"),
    path(
        "compte/mes-donnees/export/<str:fmt>/",
        data.account_data_export,
        name="data_export",
    ),
    path(
        "compte/mes-donnees/enfant/<int:child_pk>/",
        data.account_data,
        name="data_child",
    ),
    path(
        "compte/mes-donnees/enfant/<int:child_pk>/export/<str:fmt>/",
        data.account_data_export,
        name="data_child_export",
    ),
]
