"""The académie's servers (``server_clients:`` of the blueprint): who may call the portal's
server-to-server endpoints (token introspection, the mail server's app-password check).

A server authenticates with its client credentials (HTTP Basic or in the body) and must be an
OIDC client with no catalogue tile: a relying party of the catalogue, which also holds a
secret, is refused.
"""

from __future__ import annotations

from django.http import HttpRequest
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import Request as OauthlibRequest

from convergence.sso.models import OidcClient


def authenticated_server(request: HttpRequest) -> str | None:
    """The client id of the académie's server making ``request``, or ``None``."""
    core = OAuthLibMixin.get_oauthlib_core()
    uri, http_method, body, headers = core._extract_params(request)
    oauthlib_request = OauthlibRequest(uri, http_method, body, headers)
    if not core.server.request_validator.authenticate_client(oauthlib_request):
        return None
    client = oauthlib_request.client
    if not OidcClient.objects.filter(application=client, service__isnull=True).exists():
        return None
    return str(client.client_id)
