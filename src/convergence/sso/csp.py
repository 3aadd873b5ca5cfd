"""Which services a page's forms may lead to (Content-Security-Policy form-action).

A sign-in, consent or logout-confirmation form is answered by a redirect to a service; the
browser checks that redirect against form-action. Only destinations registered for the
service are ever added: a client's exact redirect or post-logout URIs, a CAS service's URL
when it matches a registration."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

from django.http import HttpRequest, QueryDict

from convergence.sso import clients
from convergence.sso.models import CasService

SIGN_IN_PATH = "/connexion/"
AUTHORIZE_PATH = "/oidc/authorize/"
LOGOUT_PATH = "/oidc/logout/"
CAS_LOGIN_PATH = "/cas/login"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _registered_redirect(params: QueryDict | dict[str, list[str]], *, field: str, uris: str) -> str:
    client_id = _first(params, "client_id")
    wanted = _first(params, field)
    if not client_id or not wanted:
        return ""
    application = clients.application(client_id)
    if application is None or wanted not in str(getattr(application, uris)).split():
        return ""
    return origin(wanted)


def _first(params: QueryDict | dict[str, list[str]], name: str) -> str:
    if isinstance(params, QueryDict):
        return params.get(name, "")
    values = params.get(name) or [""]
    return values[0]


def _cas_service(params: QueryDict | dict[str, list[str]]) -> str:
    service = _first(params, "service")
    return origin(service) if service and CasService.objects.for_url(service) else ""


def _for(path: str, params: QueryDict | dict[str, list[str]]) -> Iterator[str]:
    if path == AUTHORIZE_PATH:
        yield _registered_redirect(params, field="redirect_uri", uris="redirect_uris")
    elif path == LOGOUT_PATH:
        yield _registered_redirect(
            params, field="post_logout_redirect_uri", uris="post_logout_redirect_uris"
        )
    elif path == CAS_LOGIN_PATH:
        yield _cas_service(params)


def form_action_origins(request: HttpRequest) -> list[str]:
    if request.path == SIGN_IN_PATH:
        target = urlsplit(request.GET.get("next", ""))
        if target.scheme or target.netloc:
            return []
        found = list(_for(target.path, parse_qs(target.query)))
    else:
        found = list(_for(request.path, request.GET if request.method == "GET" else request.POST))
    return [item for item in found if item]
