"""URLs of activation, recovery contacts and the "Gestion des comptes" area (docs/accounts.md)."""

from django.urls import URLPattern, URLResolver, path

from .views import activation, manage

urlpatterns: list[URLPattern | URLResolver] = [
    path("activation/", activation.activation, name="activation"),
    path("activation/mot-de-passe/", activation.activation_password, name="activation_password"),
    path("activation/secours/", activation.activation_recovery, name="activation_recovery"),
    path("compte/secours/", activation.account_recovery, name="account_recovery"),
    path("gestion/comptes/", manage.manage_accounts, name="manage_accounts"),
    path("gestion/comptes/<int:pk>/", manage.manage_account, name="manage_account"),
    path(
        "gestion/comptes/<int:pk>/lettre/",
        manage.manage_account_letter,
        name="manage_account_letter",
    ),
    path("gestion/lettres/", manage.manage_letters, name="manage_letters"),
    path("gestion/lettres/<int:pk>/", manage.manage_letter_batch, name="manage_letter_batch"),
    path(
        "gestion/lettres/<int:pk>/pdf/",
        manage.manage_letter_batch_download,
        name="manage_letter_batch_download",
    ),
]
