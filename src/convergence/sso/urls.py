"""CAS server under /cas/ and the account page's list of authorised services."""

from django.urls import URLPattern, URLResolver, include, path

from convergence.sso.views import account

urlpatterns: list[URLPattern | URLResolver] = [
    path("cas/", include("convergence.sso.urls_cas")),
    path(
        "compte/services-autorises/",
        include(
            (
                [
                    path("", account.authorised_services, name="authorised_services"),
                    path("<int:consent_id>/retirer/", account.revoke, name="revoke_consent"),
                ],
                "sso",
            )
        ),
    ),
]
