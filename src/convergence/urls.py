"""Root URLconf: portal at /, sign-in and account pages, admin, help (guides, the guide of
each error code), the legal pages (mentions légales, données personnelles, accessibilité,
plan du site).
(The health probes and /metrics are answered by ``core.health.HealthMiddleware``.)"""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from convergence.accounts import urls as accounts_urls
from convergence.accounts.views import admin_login
from convergence.core import views as core_views
from convergence.help import urls as help_urls
from convergence.mfa import urls as mfa_urls
from convergence.notifications import views as notifications_views

# The admin's own sign-in form never reads a password: people sign in through the portal's,
# which is throttled and audited.
admin.site.login = admin_login  # type: ignore[method-assign]
admin.site.site_header = settings.ACADEMIE_NAME
admin.site.site_title = "Convergence"

urlpatterns = [
    # First: a help page is resolved without walking the apps mounted at "" (a fresh
    # browser's help page comes from the cache, so resolving it is much of its cost).
    path("aide/", include("convergence.help.urls")),
    path("aide/", include(help_urls.error_urlpatterns)),
    # Early too: the public status page is what everyone reloads when a service is down.
    path("", include("convergence.status.urls")),
    path("", include("convergence.portal.urls")),
    path("", include(accounts_urls.allauth_urlpatterns)),
    path("", include("convergence.accounts.urls")),
    path("", include(mfa_urls.allauth_urlpatterns)),
    path("", include("convergence.mfa.urls")),
    path("", include("convergence.devices.urls")),
    path("", include("convergence.provisioning.urls")),
    path("oidc/", include("convergence.sso.urls_oidc")),
    path("", include("convergence.sso.urls")),
    path("assistance/", include("convergence.support.urls")),
    path("", include("convergence.mail.urls")),
    path("", include("convergence.mail.urls_setup")),
    path("", include("convergence.mail.urls_directory")),
    path("", include("convergence.mail.urls_contacts")),
    path("", include("convergence.mail.urls_limits")),
    path("", include("convergence.mail.urls_rules")),
    path("", include("convergence.notifications.urls")),
    path("api/v1/", include("convergence.api.urls")),
    # At the root: a service worker's scope is its own folder, and a manifest's is the site.
    path("sw.js", notifications_views.service_worker, name="service_worker"),
    path("manifest.webmanifest", notifications_views.webmanifest, name="webmanifest"),
    path("recherche/", core_views.search, name="search"),
    path("widgets/<slug:slug>/", core_views.widget, name="widget"),
    path("mentions-legales/", core_views.legal_notice, name="legal_notice"),
    path("donnees-personnelles/", core_views.personal_data_notice, name="personal_data_notice"),
    path("accessibilite/", core_views.accessibility, name="accessibility"),
    path("plan-du-site/", core_views.site_map, name="site_map"),
    path("administration/", admin.site.urls),
]

if not settings.PRODUCTION:
    # In production the reverse proxy serves uploaded files (the académie's logo).
    from django.views.static import serve

    urlpatterns.append(
        path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}, name="media")
    )

handler400 = "convergence.core.views.bad_request"
handler403 = "convergence.core.views.permission_denied"
handler404 = "convergence.core.views.page_not_found"
handler500 = "convergence.core.views.server_error"
