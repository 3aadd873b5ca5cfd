"""Second factors (docs/accounts.md, part 3), included by convergence/urls.py.

allauth's mfa URLs live under /compte/securite/ with their own names (``mfa_authenticate`` is
the sign-in stage, ``mfa_login_webauthn`` the passkey sign-in). Its recovery-code URLs are
*not* included: ours replace them under the same names, because our codes are stored hashed
and can only be shown once (seams.py). ``account_reauthenticate`` (password) is mounted here as
allauth's reauthentication redirects to it before a factor is changed.
"""

from allauth.account import views as allauth_views
from django.urls import URLPattern, URLResolver, include, path

from convergence.mfa import views

SECURITY = "compte/securite/"

# The pages allauth reverses by their global names (included without a namespace).
allauth_urlpatterns: list[URLPattern | URLResolver] = [
    path(SECURITY, views.security_index, name="account_security"),
    # allauth's templates and redirects name the same page mfa_index.
    path(SECURITY, views.security_index, name="mfa_index"),
    path(SECURITY, include("allauth.mfa.base.urls")),
    path(f"{SECURITY}totp/", include("allauth.mfa.totp.urls")),
    path(f"{SECURITY}webauthn/", include("allauth.mfa.webauthn.urls")),
    path(
        f"{SECURITY}codes-de-secours/",
        views.recovery_codes,
        name="mfa_view_recovery_codes",
    ),
    path(
        f"{SECURITY}codes-de-secours/generer/",
        views.generate_recovery_codes,
        name="mfa_generate_recovery_codes",
    ),
    path(
        "compte/reauthentification/",
        allauth_views.reauthenticate,
        name="account_reauthenticate",
    ),
]

app_name = "second_factor"

# The portal's own pages of second factors: the lost-factor procedure of "Gestion des comptes".
urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "gestion/comptes/<int:pk>/second-facteur/",
        views.manage_reset_mfa,
        name="manage_reset",
    ),
    path(
        "gestion/second-facteur/demandes/",
        views.manage_mfa_reset_requests,
        name="reset_requests",
    ),
    path(
        "gestion/second-facteur/demandes/<int:pk>/",
        views.manage_mfa_reset_request,
        name="reset_request",
    ),
]
