"""OpenID Connect endpoints under /oidc/ (the issuer). Only what the portal offers: no
client self-registration, no device flow, no application management pages."""

from django.urls import path, re_path
from oauth2_provider import views as toolkit

from convergence.sso.views.oidc import (
    AuthorizeView,
    DiscoveryView,
    IntrospectTokenView,
    LogoutView,
    ServerMetadataView,
    TokenView,
)

# The toolkit's views reverse their siblings in this namespace (discovery document).
app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", AuthorizeView.as_view(), name="authorize"),
    path("token/", TokenView.as_view(), name="token"),
    path("revoke_token/", toolkit.RevokeTokenView.as_view(), name="revoke-token"),
    # Only the académie's servers may introspect (the toolkit's view lets any client).
    path("introspect/", IntrospectTokenView.as_view(), name="introspect"),
    re_path(
        r"^\.well-known/openid-configuration$",
        DiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    # RFC 8414 metadata under the issuer. The toolkit derives the RFC 9207 ``iss`` of
    # authorization responses from this route's prefix; without it, ``iss`` would be the
    # bare host and differ from the discovery document's issuer.
    path(
        ".well-known/oauth-authorization-server",
        ServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path(".well-known/jwks.json", toolkit.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", toolkit.UserInfoView.as_view(), name="user-info"),
    path("logout/", LogoutView.as_view(), name="rp-initiated-logout"),
]
