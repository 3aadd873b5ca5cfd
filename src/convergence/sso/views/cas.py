"""CAS 3.0 endpoints: ``/login`` and ``/logout`` for the browser, ticket validation and
``/proxy`` for the services' servers (answered 200 with an XML or JSON body, as the
specification asks, whatever the outcome)."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.contrib.auth import logout as auth_logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from oauth2_provider.scopes import get_scopes_backend

from convergence.accounts.http import signed_in_user
from convergence.core import errors
from convergence.sso import actions, cas, step_up
from convergence.sso import errors as sso_errors
from convergence.sso.access import may_open, refuse, refused_page
from convergence.sso.actions.cas import CAS_RELEASED_SCOPES, append_query, may_release
from convergence.sso.actions.sessions import session_auth_time
from convergence.sso.models import CasService

# When /cas/login last sent this browser to the sign-in page (a Unix time).
SIGN_IN_ASKED_KEY = "convergence_cas_sign_in_asked"
# A sign-in counts as the one asked for (``renew``, ``isFromNewLogin``) only this soon after.
NEW_LOGIN_WINDOW_SECONDS = 300
FORMATS = {"XML", "JSON"}


def _is_set(value: str | None) -> bool:
    # The specification says "if this parameter is set"; "false" is read as not set.
    return value is not None and value.strip().lower() != "false"


# --- /login ------------------------------------------------------------------------------


def _ask_sign_in(request: HttpRequest) -> HttpResponse:
    request.session[SIGN_IN_ASKED_KEY] = time.time()
    return redirect_to_login(request.get_full_path())


def _new_login(request: HttpRequest) -> bool:
    """True when the person signed in after /cas/login asked them to, a moment ago."""
    asked = request.session.get(SIGN_IN_ASKED_KEY)
    auth_time = session_auth_time(request.session)
    if not isinstance(asked, int | float) or auth_time is None:
        return False
    signed_in = auth_time.timestamp()
    return signed_in >= asked and time.time() - signed_in <= NEW_LOGIN_WINDOW_SECONDS


def _consent_page(request: HttpRequest, cas_service: CasService) -> HttpResponse:
    descriptions = get_scopes_backend().get_all_scopes()
    released = [descriptions[scope] for scope in sorted(CAS_RELEASED_SCOPES)]
    return render(
        request,
        "sso/cas_consent.html",
        {"service": cas_service.service, "released": released, "action": request.get_full_path()},
    )


def _issue(
    request: HttpRequest, cas_service: CasService, service_url: str, *, new_login: bool
) -> HttpResponse:
    ticket = actions.issue_service_ticket(
        sso_session=actions.sso_session_for(request),
        cas_service=cas_service,
        service_url=service_url,
        from_new_login=new_login,
        request=request,
    )
    request.session.pop(SIGN_IN_ASKED_KEY, None)
    return HttpResponseRedirect(append_query(service_url, {"ticket": ticket}))


def _without_service(request: HttpRequest, *, renew: bool) -> HttpResponse:
    if not request.user.is_authenticated or (renew and not _new_login(request)):
        return _ask_sign_in(request)
    request.session.pop(SIGN_IN_ASKED_KEY, None)
    return render(request, "sso/cas_signed_in.html")


def _signed_in(
    request: HttpRequest, cas_service: CasService, service_url: str, *, gateway: bool
) -> HttpResponse:
    """The person is signed in (freshly enough): audience, consent, then the ticket."""
    user = signed_in_user(request)
    if not may_open(user, cas_service.service):
        refuse(request, cas_service.service, "cas")
        if gateway:
            return HttpResponseRedirect(service_url)
        return refused_page(request, cas_service.service)
    need = step_up.need_for(request, cas_service.service)
    if need is not step_up.Need.NONE:
        if gateway:
            # A gateway request never shows a page: back to the service, without a ticket.
            return HttpResponseRedirect(service_url)
        asked = step_up.step_up(
            request, cas_service.service, need, protocol="cas", return_to=request.get_full_path()
        )
        if asked is not None:
            return asked
    if not may_release(user, cas_service):
        if gateway:
            return HttpResponseRedirect(service_url)
        if request.method != "POST":
            return _consent_page(request, cas_service)
        if request.POST.get("decision") != "allow":
            return redirect("portal:dashboard")
        actions.grant_consent(
            user=user, service=cas_service.service, scopes=set(CAS_RELEASED_SCOPES), request=request
        )
    return _issue(request, cas_service, service_url, new_login=_new_login(request))


@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """``/cas/login`` as credential requestor (specification 2.1), on the portal's sign-in."""
    service_url = request.GET.get("service", "")
    renew = _is_set(request.GET.get("renew"))
    # Ignored with renew, as the specification recommends.
    gateway = _is_set(request.GET.get("gateway")) and not renew
    if not service_url:
        return _without_service(request, renew=renew)
    cas_service = CasService.objects.for_url(service_url)
    if cas_service is None:
        errors.remember(request, sso_errors.UNKNOWN_CAS_SERVICE.code)
        return render(
            request,
            "sso/cas_unknown_service.html",
            {"error_code": sso_errors.UNKNOWN_CAS_SERVICE},
            status=sso_errors.UNKNOWN_CAS_SERVICE.status,
        )
    if not request.user.is_authenticated:
        if gateway:
            return HttpResponseRedirect(service_url)
        return _ask_sign_in(request)
    if renew and not _new_login(request):
        return _ask_sign_in(request)
    return _signed_in(request, cas_service, service_url, gateway=gateway)


# --- /logout -----------------------------------------------------------------------------


# Services link (or post) here from their own pages; a forged request could only do what a
# plain GET, which the protocol requires, already does: sign the person out.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def logout(request: HttpRequest) -> HttpResponse:
    """``/cas/logout``: sign out of the portal (ending SSO, telling every service), then go
    back to ``service`` only when it is a registered CAS service."""
    if request.user.is_authenticated:
        auth_logout(request)
    service_url = request.GET.get("service") or request.POST.get("service", "")
    if service_url and CasService.objects.for_url(service_url) is not None:
        return HttpResponseRedirect(service_url)
    return render(request, "sso/cas_logged_out.html")


# --- validation and /proxy (server to server) --------------------------------------------


def _format(params: QueryDict) -> str:
    return params.get("format", "XML").strip().upper()


def _body(text: str, content_type: str) -> HttpResponse:
    return HttpResponse(text, content_type=content_type)


def _validation_view(
    *, accept_proxy_tickets: bool, with_attributes: bool
) -> Callable[[HttpRequest], HttpResponse]:
    @never_cache
    @require_GET
    def view(request: HttpRequest) -> HttpResponse:
        params = request.GET
        answer_format = _format(params)
        if answer_format not in FORMATS:
            result: cas.Success | cas.Failure = actions.refuse_validation(
                ticket=params.get("ticket", ""),
                service=params.get("service", ""),
                description="Unsupported format: use XML or JSON",
                request=request,
            )
        else:
            result = actions.validate_ticket(
                ticket=params.get("ticket", ""),
                service=params.get("service", ""),
                renew=_is_set(params.get("renew")),
                pgt_url=params.get("pgtUrl", ""),
                accept_proxy_tickets=accept_proxy_tickets,
                with_attributes=with_attributes,
                request=request,
            )
        if answer_format == "JSON":
            return _body(cas.validation_json(result), cas.JSON_CONTENT_TYPE)
        return _body(cas.validation_xml(result), cas.XML_CONTENT_TYPE)

    return view


service_validate = _validation_view(accept_proxy_tickets=False, with_attributes=False)
proxy_validate = _validation_view(accept_proxy_tickets=True, with_attributes=False)
p3_service_validate = _validation_view(accept_proxy_tickets=False, with_attributes=True)
p3_proxy_validate = _validation_view(accept_proxy_tickets=True, with_attributes=True)


@never_cache
@require_GET
def proxy(request: HttpRequest) -> HttpResponse:
    """``/cas/proxy``: a proxy ticket for ``targetService`` against a proxy-granting ticket."""
    params = request.GET
    answer_format = _format(params)
    if answer_format not in FORMATS:
        failure = cas.Failure(cas.INVALID_REQUEST, "Unsupported format: use XML or JSON")
        return _body(cas.proxy_xml(failure), cas.XML_CONTENT_TYPE)
    result = actions.issue_proxy_ticket(
        pgt=params.get("pgt", ""), target_service=params.get("targetService", ""), request=request
    )
    if answer_format == "JSON":
        return _body(cas.proxy_json(result), cas.JSON_CONTENT_TYPE)
    return _body(cas.proxy_xml(result), cas.XML_CONTENT_TYPE)
