"""OpenID Connect endpoints with a face: authorization (the toolkit's, plus our rules —
audience of the catalogue, consent for third parties, ``prompt``, ``max_age`` — and the SSO
session) and RP-initiated logout (the toolkit's, with its rough edges filed off)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider.exceptions import (
    InvalidOIDCClientError,
    LogoutDenied,
    OAuthToolkitError,
    OIDCError,
)
from oauth2_provider.models import Application, IDToken
from oauth2_provider.scopes import get_scopes_backend
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import (
    AuthorizationView,
    ConnectDiscoveryInfoView,
    OAuthServerMetadataView,
    RPInitiatedLogoutView,
)
from oauth2_provider.views import IntrospectTokenView as ToolkitIntrospectTokenView
from oauth2_provider.views import TokenView as ToolkitTokenView
from oauth2_provider.views.metadata import ServerMetadataViewMixin

from convergence.accounts.http import signed_in_user
from convergence.accounts.models import User
from convergence.core import errors
from convergence.portal.models import Service
from convergence.sso import actions, clients, grants, servers, step_up
from convergence.sso.access import may_open, refuse, refused_page
from convergence.sso.actions.sessions import session_auth_time
from convergence.sso.errors import INVALID_SERVICE_REQUEST, LOGOUT_REFUSED
from convergence.sso.models import Acr, Consent, OidcClient
from convergence.sso.signing import ID_TOKEN_SIGNING_ALGORITHMS


class AuthorizeView(AuthorizationView):
    template_name = "sso/authorize.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.oauth2_data: dict[str, Any] = {}
        prompt = set(request.GET.get("prompt", "").split())
        if request.method == "GET" and "none" in prompt and not request.user.is_authenticated:
            # A silent request never shows the sign-in page.
            try:
                _, credentials = self.validate_authorization_request(request)
            except OAuthToolkitError as error:
                return self.error_response(error, application=None)
            return self.silent_error(credentials, "login_required")
        return super().dispatch(request, *args, **kwargs)

    # --- helpers -------------------------------------------------------------------------
    def silent_error(self, credentials: dict[str, Any], error: str) -> HttpResponse:
        """Answer a ``prompt=none`` request the RP can read (OIDC Core 3.1.2.6)."""
        redirect_uri = credentials["redirect_uri"]
        params = {"error": error, "iss": oauth2_settings.oidc_issuer(self.request)}
        if credentials.get("state"):
            params["state"] = credentials["state"]
        separator = "&" if "?" in redirect_uri else "?"
        application = clients.application(credentials["client_id"])
        return self.redirect(f"{redirect_uri}{separator}{urlencode(params)}", application)

    def error_response(
        self, error: OAuthToolkitError, application: Application | None, **kwargs: Any
    ) -> HttpResponse:
        """The toolkit's answer to a bad request: back to the client when its redirect URI can
        be trusted, else a page for the person, which carries the portal's error code."""
        response: HttpResponse = super().error_response(
            error, application, error_code=INVALID_SERVICE_REQUEST, **kwargs
        )
        if response.status_code >= 400:
            errors.remember(self.request, INVALID_SERVICE_REQUEST.code)
        return response

    def client_for(self, client_id: str) -> OidcClient | None:
        return (
            OidcClient.objects.select_related("application", "service")
            .filter(application__client_id=client_id)
            .first()
        )

    def refused(self, service: Service | None) -> HttpResponse:
        refuse(self.request, service, "oidc")
        return refused_page(self.request, service)

    # --- GET: decide without asking when we can ---------------------------------------
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)
        prompt = set(request.GET.get("prompt", "").split())
        silent = "none" in prompt
        if "login" in prompt and not silent:
            return self.handle_prompt_login()
        max_age = request.GET.get("max_age")
        if max_age is not None:
            if not max_age.isdigit():
                return self.silent_error(credentials, "invalid_request")
            auth_time = session_auth_time(request.session)
            if auth_time is None or (timezone.now() - auth_time).total_seconds() > int(max_age):
                if silent:
                    return self.silent_error(credentials, "login_required")
                return redirect_to_login(request.get_full_path())
        client = self.client_for(credentials["client_id"])
        user = signed_in_user(request)
        if client is None or not may_open(user, client.service):
            if silent:
                return self.silent_error(credentials, "access_denied")
            return self.refused(client.service if client else None)
        need = step_up.need_for(
            request,
            client.service,
            requested=step_up.acr_values_ask_mfa(request.GET.get("acr_values", "")),
        )
        if silent and step_up.must_ask(need, user):
            return self.silent_error(credentials, "interaction_required")
        asked = step_up.step_up(
            request, client.service, need, protocol="oidc", return_to=request.get_full_path()
        )
        if asked is not None:
            return asked
        if client.first_party or self.consented(user, client, scopes):
            return self.authorize(scopes, credentials)
        if silent:
            return self.silent_error(credentials, "consent_required")
        return self.consent_page(client, scopes, credentials)

    def authorization_url(self, data: dict[str, Any]) -> str:
        """The authorization request a consent form was answering, to be asked again."""
        keys = (
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "state",
            "nonce",
            "code_challenge",
            "code_challenge_method",
            "claims",
        )
        params = {key: str(data[key]) for key in keys if data.get(key)}
        return f"{reverse('oauth2_provider:authorize')}?{urlencode(params)}"

    def consented(self, user: User, client: OidcClient, scopes: list[str]) -> bool:
        consent = Consent.objects.filter(user=user, service=client.service).first()
        return consent is not None and consent.covers(set(scopes))

    def authorize(self, scopes: list[str], credentials: dict[str, Any]) -> HttpResponse:
        application = clients.application(credentials["client_id"])
        try:
            uri, _, _, _ = self.create_authorization_response(
                request=self.request, scopes=" ".join(scopes), credentials=credentials, allow=True
            )
        except OAuthToolkitError as error:
            return self.error_response(error, application)
        return self.redirect(uri, application)

    def consent_page(
        self, client: OidcClient, scopes: list[str], credentials: dict[str, Any]
    ) -> HttpResponse:
        descriptions = get_scopes_backend().get_all_scopes()
        self.oauth2_data = {
            key: credentials[key]
            for key in (
                "client_id",
                "redirect_uri",
                "response_type",
                "state",
                "code_challenge",
                "code_challenge_method",
                "nonce",
            )
            if key in credentials
        }
        # A list: the toolkit's get_initial() joins it for the hidden field.
        self.oauth2_data["scope"] = scopes
        if "claims" in credentials:
            self.oauth2_data["claims"] = json.dumps(credentials["claims"])
        form = self.get_form(self.get_form_class())
        return self.render_to_response(
            self.get_context_data(
                form=form,
                client=client,
                service=client.service,
                scopes_descriptions=[descriptions[s] for s in scopes if s in descriptions],
            )
        )

    # --- POST: the consent form's answer ----------------------------------------------
    def form_valid(self, form: Any) -> HttpResponse:
        client = self.client_for(form.cleaned_data.get("client_id", ""))
        user = signed_in_user(self.request)
        if client is None or not may_open(user, client.service):
            return self.refused(client.service if client else None)
        need = step_up.need_for(self.request, client.service)
        if form.cleaned_data.get("allow") and need is not step_up.Need.NONE:
            # The consent page is shown only after the step-up; a form posted without it
            # goes back through the authorization request, which asks for the factor.
            asked = step_up.step_up(
                self.request,
                client.service,
                need,
                protocol="oidc",
                return_to=self.authorization_url(form.cleaned_data),
            )
            if asked is not None:
                return asked
        response = super().form_valid(form)
        if form.cleaned_data.get("allow") and response.status_code in (301, 302):
            scopes = set(form.cleaned_data.get("scope", "").split())
            location = response.get("Location", "")
            if "code=" in location and client.service is not None:
                actions.grant_consent(
                    user=user, service=client.service, scopes=scopes, request=self.request
                )
        return response

    def create_authorization_response(
        self, request: HttpRequest, scopes: str, credentials: dict[str, Any], allow: bool
    ) -> tuple[str, dict[str, str], str, int]:
        if not allow:
            return super().create_authorization_response(request, scopes, credentials, allow)
        # The code remembers the SSO session: sid, auth_time and acr of the ID token.
        credentials["sso_session"] = actions.sso_session_for(request)
        response = super().create_authorization_response(request, scopes, credentials, allow)
        actions.record_service_login(
            request, client_id=credentials.get("client_id", ""), protocol="oidc"
        )
        return response


# What the token and revocation endpoints accept: the secret in HTTP Basic or in the body, or,
# for a public client (``public: true`` in the blueprint, PKCE still required), its client_id
# alone. Introspection is for the académie's servers: always a secret (or a bearer token with
# the ``introspection`` scope, which has no registered method name).
TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
INTROSPECTION_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def shared_metadata(view: ServerMetadataViewMixin, request: HttpRequest) -> dict[str, Any]:
    """What both metadata documents (OIDC discovery, RFC 8414) say the same way: grants,
    endpoints and how clients authenticate at each. Only what the provider accepts."""
    return {
        "grant_types_supported": list(oauth2_settings.OAUTH2_GRANT_TYPES_SUPPORTED),
        "token_endpoint_auth_methods_supported": TOKEN_ENDPOINT_AUTH_METHODS,
        "revocation_endpoint": view._get_endpoint_url(request, "revoke-token", required=True),
        "revocation_endpoint_auth_methods_supported": TOKEN_ENDPOINT_AUTH_METHODS,
        "introspection_endpoint": view._get_endpoint_url(request, "introspect", required=True),
        "introspection_endpoint_auth_methods_supported": INTROSPECTION_ENDPOINT_AUTH_METHODS,
    }


def _json(data: dict[str, Any], toolkit_response: HttpResponse) -> JsonResponse:
    answer = JsonResponse(data)
    answer["Access-Control-Allow-Origin"] = toolkit_response.get("Access-Control-Allow-Origin", "*")
    return answer


class DiscoveryView(ConnectDiscoveryInfoView):
    """The toolkit's discovery document, corrected to what the portal serves: ID tokens
    signed RS256 only (secrets are stored hashed, so no HMAC with them), grants, revocation
    and introspection, back-channel logout with ``sid``, no request objects, and the
    authentication contexts (``acr_values=urn:convergence:acr:mfa`` asks for a factor)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data.update(shared_metadata(self, request))
        data["id_token_signing_alg_values_supported"] = list(ID_TOKEN_SIGNING_ALGORITHMS)
        data["acr_values_supported"] = [Acr.PASSWORD.value, Acr.MFA.value]
        # Back-Channel Logout 1.0 §2.1: logout tokens are sent (sso/logout.py) and carry
        # the ``sid`` of the ID token.
        data["backchannel_logout_supported"] = True
        data["backchannel_logout_session_supported"] = True
        # Discovery 1.0 §3: an omitted request_uri_parameter_supported means true.
        data["request_parameter_supported"] = False
        data["request_uri_parameter_supported"] = False
        return _json(data, response)


class ServerMetadataView(OAuthServerMetadataView):
    """The toolkit's RFC 8414 document, agreeing with the discovery document."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data.update(shared_metadata(self, request))
        return _json(data, response)


class TokenView(ToolkitTokenView):
    """The token endpoint: refresh-token and client-credentials grants are answered by
    ``sso/grants.py`` (one read and a few writes each), everything else by the toolkit."""

    @method_decorator(sensitive_post_parameters("client_secret", "refresh_token"))
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if grants.handles(request):
            return grants.token_response(request, sender=self)
        response: HttpResponse = super().post(request, *args, **kwargs)
        return response


class LogoutView(RPInitiatedLogoutView):
    """RP-initiated logout. The toolkit checks ``id_token_hint`` (signature, issuer, client)
    and ``post_logout_redirect_uri`` (registered, strict); signing out of the portal then
    ends the SSO session through the ``user_logged_out`` signal (single logout)."""

    template_name = "oauth2_provider/logout_confirm.html"

    def get_request_application(
        self, id_token: IDToken | None, client_id: str | None
    ) -> Application | None:
        # The toolkit lets Application.DoesNotExist escape (a 500) for an unknown client_id.
        try:
            application: Application | None = super().get_request_application(id_token, client_id)
        except Application.DoesNotExist as error:
            raise InvalidOIDCClientError() from error
        return application

    def error_response(self, error: OIDCError) -> HttpResponse:
        if isinstance(error, LogoutDenied):
            # "Rester connecté" on the confirmation page is a choice, not an error.
            return redirect("portal:dashboard")
        errors.remember(self.request, LOGOUT_REFUSED.code)
        context = {"error": error, "error_code": LOGOUT_REFUSED}
        response: HttpResponse = self.render_to_response(context, status=error.status_code)
        return response


class IntrospectTokenView(ToolkitIntrospectTokenView):
    """RFC 7662 introspection for the académie's servers only (``server_clients:``).

    The toolkit lets *any* client that authenticates with its own credentials introspect any
    token, so the Arena could learn who holds another service's token. A client authenticating
    with its credentials must be a server of the académie (an OIDC client with no catalogue
    tile); a bearer token must carry the ``introspection`` scope, which only servers obtain
    (``validators.SERVER_SCOPES``, client credentials only).
    """

    def authenticate_client(self, request: HttpRequest) -> bool:
        return servers.authenticated_server(request) is not None

    @staticmethod
    def get_token_response(token_value: str | None = None) -> HttpResponse:
        """The toolkit's answer, plus ``mailbox`` (the login) for a token of the webmail
        (scope ``mail``): the mail server takes its user name from that attribute only, so a
        token a service of the catalogue holds (people's scopes) never opens the mailbox."""
        response: HttpResponse = ToolkitIntrospectTokenView.get_token_response(token_value)
        data = json.loads(response.content)
        if data.get("active") is True and "mail" in str(data.get("scope", "")).split():
            data["mailbox"] = data.get("username", "")
            return JsonResponse(data)
        return response
