"""URLs of one part of an account's life (docs/accounts.md), included by accounts/urls.py:
forgotten password (e-mail link or SMS code), forgotten login, référent password reset.

The four ``account_reset_password*`` names are the ones allauth reverses; they now lead to
the portal's own recovery flow (accounts/actions/recovery.py).
"""

from django.urls import URLPattern, URLResolver, path

from .views import recovery

urlpatterns: list[URLPattern | URLResolver] = [
    path("mot-de-passe-oublie/", recovery.password_reset, name="account_reset_password"),
    path(
        "mot-de-passe-oublie/envoye/",
        recovery.password_reset_done,
        name="account_reset_password_done",
    ),
    path("mot-de-passe-oublie/code/", recovery.password_reset_code, name="password_reset_code"),
    path(
        "mot-de-passe-oublie/cle/<str:key>/",
        recovery.password_reset_from_key,
        name="account_reset_password_from_key",
    ),
    path("mot-de-passe-oublie/nouveau/", recovery.password_reset_new, name="password_reset_new"),
    path(
        "mot-de-passe-oublie/termine/",
        recovery.password_reset_complete,
        name="account_reset_password_from_key_done",
    ),
    path("identifiant-oublie/", recovery.forgot_login, name="forgot_login"),
    path("identifiant-oublie/envoye/", recovery.forgot_login_done, name="forgot_login_done"),
    path(
        "gestion/comptes/<int:pk>/mot-de-passe/",
        recovery.manage_reset_password,
        name="manage_reset_password",
    ),
]
