"""Writes of the CAS 3.0 server: issuing service, proxy-granting and proxy tickets, and
validating (burning) them.

Tickets are random (``secrets``), stored only as digests, bound to the service URL they were
issued for, and burned at the first validation attempt whatever its outcome: one
``UPDATE … WHERE consumed_at IS NULL`` decides, so two concurrent validations cannot both win.
The proxy callback (``pgtUrl``) is the one outgoing call: a GET with an explicit timeout,
no redirects followed, made outside any transaction.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from convergence.accounts.models import AccountState, User
from convergence.audit.actions import record_event
from convergence.core import ratelimit
from convergence.core.http import client_ip
from convergence.sso import cas, events
from convergence.sso.access import may_open
from convergence.sso.actions.sessions import record_participation
from convergence.sso.claims import person_claims
from convergence.sso.models import (
    Acr,
    CasService,
    CasTicket,
    Consent,
    SsoSession,
    TicketKind,
    digest,
    same_origin_prefix,
)

logger = logging.getLogger(__name__)

SERVICE_TICKET_PREFIX = "ST-"
PROXY_TICKET_PREFIX = "PT-"
PROXY_GRANTING_TICKET_PREFIX = "PGT-"
PGT_IOU_PREFIX = "PGTIOU-"
# Connect and read timeouts of the proxy callback: the service is waiting on the validation.
PROXY_CALLBACK_TIMEOUT = (3.0, 5.0)
# The specification asks servers to accept tickets of up to 256 characters; longer is junk.
MAX_TICKET_LENGTH = 256
# What a CAS service receives, named as the OIDC scopes the account page describes.
CAS_RELEASED_SCOPES = frozenset({"profile", "email", "establishments"})


def may_release(user: User, cas_service: CasService) -> bool:
    """Whether the service may learn who the person is: one of the académie's, or agreed to."""
    if cas_service.first_party:
        return True
    consent = Consent.objects.filter(user=user, service=cas_service.service).first()
    return consent is not None and consent.covers(set(CAS_RELEASED_SCOPES))


def _new_ticket(prefix: str) -> str:
    # 32 random bytes: 43 URL-safe characters after the prefix.
    return prefix + secrets.token_urlsafe(32)


def _in_seconds(seconds: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(seconds=seconds)


def append_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` added to its query string (existing parameters kept)."""
    parts = urlsplit(url)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


# --- issuing -----------------------------------------------------------------------------


def issue_service_ticket(
    *,
    sso_session: SsoSession,
    cas_service: CasService,
    service_url: str,
    from_new_login: bool,
    request: HttpRequest | None = None,
) -> str:
    """Issue a service ticket for ``service_url`` (valid ``CAS_TICKET_SECONDS``).

    In one transaction: the ticket (as a digest), the session's participation (the ticket is
    the SessionIndex of single logout) and the audit entry. Returns the ticket.
    """
    ticket = _new_ticket(SERVICE_TICKET_PREFIX)
    user = sso_session.user
    with transaction.atomic():
        CasTicket.objects.create(
            ticket_digest=digest(ticket),
            kind=TicketKind.SERVICE,
            cas_service=cas_service,
            service_url=service_url,
            user=user,
            sso_session=sso_session,
            from_new_login=from_new_login,
            expires=_in_seconds(settings.CAS_TICKET_SECONDS),
        )
        record_participation(
            sso_session, cas_service=cas_service, cas_ticket=ticket, cas_service_url=service_url
        )
        record_event(
            event_type=events.SERVICE_LOGIN,
            request=request,
            actor=user,
            subject=user,
            data={"service": cas_service.service.slug, "protocol": "cas"},
        )
    return ticket


def issue_proxy_ticket(
    *, pgt: str, target_service: str, request: HttpRequest | None = None
) -> str | cas.Failure:
    """Issue a proxy ticket for ``target_service`` from a live proxy-granting ticket.

    The target must be a registered CAS service the person may open. A refusal is audited.
    """
    if not pgt or not target_service:
        failure = cas.Failure(
            cas.INVALID_REQUEST, "'pgt' and 'targetService' parameters are both required"
        )
        return _reject(request, None, failure, target_service)
    granting = _live_proxy_granting_ticket(pgt)
    if granting is None:
        failure = cas.Failure(cas.INVALID_TICKET, "Proxy-granting ticket not recognized")
        return _reject(request, None, failure, target_service)
    target = CasService.objects.for_url(target_service)
    if (
        target is None
        or not may_open(granting.user, target.service)
        or not may_release(granting.user, target)
        or not _strong_enough(granting.sso_session, target)
    ):
        failure = cas.Failure(
            cas.UNAUTHORIZED_SERVICE, "The target service is not authorized for this user"
        )
        return _reject(request, granting, failure, target_service)
    ticket = _new_ticket(PROXY_TICKET_PREFIX)
    CasTicket.objects.create(
        ticket_digest=digest(ticket),
        kind=TicketKind.PROXY,
        cas_service=target,
        service_url=target_service,
        user=granting.user,
        sso_session=granting.sso_session,
        granted_by=granting,
        proxies=list(granting.proxies),
        expires=_in_seconds(settings.CAS_TICKET_SECONDS),
    )
    if granting.sso_session is not None and target.single_logout:
        # The back-end service reached through the proxy is told of the logout too.
        record_participation(
            granting.sso_session,
            cas_service=target,
            cas_ticket=ticket,
            cas_service_url=target_service,
        )
    return ticket


def _strong_enough(sso_session: SsoSession | None, target: CasService) -> bool:
    """A sensitive service is reached through a proxy only from a session that used a second
    factor (the proxying server cannot ask the person for one)."""
    if not target.service.mfa_required:
        return True
    return sso_session is not None and sso_session.acr == Acr.MFA


def _live_proxy_granting_ticket(pgt: str) -> CasTicket | None:
    if not pgt.startswith(PROXY_GRANTING_TICKET_PREFIX) or len(pgt) > MAX_TICKET_LENGTH:
        return None
    return (
        CasTicket.objects.live()
        .select_related("user", "sso_session")
        .filter(
            ticket_digest=digest(pgt),
            kind=TicketKind.PROXY_GRANTING,
            user__state=AccountState.ACTIVE,
        )
        .first()
    )


# --- validating --------------------------------------------------------------------------


def validate_ticket(
    *,
    ticket: str,
    service: str,
    renew: bool = False,
    pgt_url: str = "",
    accept_proxy_tickets: bool = False,
    with_attributes: bool = False,
    request: HttpRequest | None = None,
) -> cas.Success | cas.Failure:
    """Validate a service (or, on the proxy endpoints, proxy) ticket for ``service``.

    The ticket is burned first, whatever follows. With ``pgt_url`` a proxy-granting ticket
    is issued if the service may proxy and its callback answers 2xx. Refusals are audited
    (without the ticket).
    """
    if not ticket or not service:
        return refuse_validation(
            ticket=ticket,
            service=service,
            description="'ticket' and 'service' parameters are both required",
            request=request,
        )
    burned = _burn(ticket)
    failure = _refusal(burned, service, renew=renew, accept_proxy_tickets=accept_proxy_tickets)
    if failure is not None:
        # A used ticket presented again is someone's: audited with its owner, every time.
        return _reject(request, burned or _used(ticket), failure, service)
    assert burned is not None
    pgt_iou = ""
    if pgt_url:
        granted = _grant_proxy(burned, pgt_url)
        if isinstance(granted, cas.Failure):
            return _reject(request, burned, granted, service)
        pgt_iou = granted
    return cas.Success(
        user=burned.user.login,
        attributes=cas_attributes(burned) if with_attributes else None,
        pgt_iou=pgt_iou,
        proxies=tuple(burned.proxies) if burned.kind == TicketKind.PROXY else (),
    )


def refuse_validation(
    *, ticket: str, service: str, description: str, request: HttpRequest | None = None
) -> cas.Failure:
    """Refuse a malformed validation request (``INVALID_REQUEST``): the ticket, if any, is
    burned all the same, and the refusal audited."""
    burned = _burn(ticket) if ticket else None
    return _reject(request, burned, cas.Failure(cas.INVALID_REQUEST, description), service)


def _may_be_service_or_proxy_ticket(ticket: str) -> bool:
    return (
        ticket.startswith((SERVICE_TICKET_PREFIX, PROXY_TICKET_PREFIX))
        and len(ticket) <= MAX_TICKET_LENGTH
    )


def _burn(ticket: str) -> CasTicket | None:
    """Consume a service or proxy ticket; ``None`` when it is unknown or already used."""
    if not _may_be_service_or_proxy_ticket(ticket):
        return None
    burned = CasTicket.objects.burn(
        digest(ticket), kinds=(TicketKind.SERVICE.value, TicketKind.PROXY.value)
    )
    if burned is None:
        return None
    # The service row is read only for a proxy callback (rare): not joined here.
    return CasTicket.objects.validated(burned)


def _used(ticket: str) -> CasTicket | None:
    if not _may_be_service_or_proxy_ticket(ticket):
        return None
    return CasTicket.objects.select_related("user").filter(ticket_digest=digest(ticket)).first()


def _refusal(
    ticket: CasTicket | None, service: str, *, renew: bool, accept_proxy_tickets: bool
) -> cas.Failure | None:
    if ticket is None or not ticket.user.is_active:
        return cas.Failure(cas.INVALID_TICKET, "Ticket not recognized")
    if ticket.kind == TicketKind.PROXY and not accept_proxy_tickets:
        return cas.Failure(
            cas.INVALID_TICKET_SPEC, "Proxy tickets are only accepted by /proxyValidate"
        )
    if ticket.expires <= timezone.now():
        return cas.Failure(cas.INVALID_TICKET, "Ticket has expired")
    if ticket.service_url != service:
        return cas.Failure(cas.INVALID_SERVICE, "Ticket was not issued for this service")
    if renew and not ticket.from_new_login:
        return cas.Failure(
            cas.INVALID_TICKET_SPEC, "Ticket was not issued from a new login (renew requested)"
        )
    return None


# Unknown tickets (a broken client, or someone guessing) are audited once a minute per
# address, so that a loop cannot fill the audit trail; known tickets refused always are.
UNKNOWN_TICKET_AUDIT_SECONDS = 60


def _worth_auditing(request: HttpRequest | None, ticket: CasTicket | None) -> bool:
    if ticket is not None or request is None:
        return True
    return ratelimit.first_time(
        ratelimit.key("cas-unknown-ticket", client_ip(request)),
        window=UNKNOWN_TICKET_AUDIT_SECONDS,
    )


def _reject(
    request: HttpRequest | None, ticket: CasTicket | None, failure: cas.Failure, service: str
) -> cas.Failure:
    if not _worth_auditing(request, ticket):
        return failure
    record_event(
        event_type=events.TICKET_REJECTED,
        request=request,
        subject=ticket.user if ticket is not None else None,
        data={
            "error": failure.code,
            "endpoint": request.path if request is not None else "",
            "kind": ticket.kind if ticket is not None else "",
            "service": service[:300],
        },
    )
    return failure


# --- proxy-granting tickets --------------------------------------------------------------


def _callback_refusal(cas_service: CasService | None, pgt_url: str) -> cas.Failure | None:
    prefix = cas_service.proxy_callback_prefix if cas_service is not None else ""
    if not prefix:
        return cas.Failure(
            cas.UNAUTHORIZED_SERVICE_PROXY, "The service is not authorized to use proxy tickets"
        )
    scheme = urlsplit(pgt_url).scheme.lower()
    if scheme != "https" and not (scheme == "http" and settings.CAS_ALLOW_HTTP_PROXY_CALLBACK):
        return cas.Failure(cas.INVALID_PROXY_CALLBACK, "The proxy callback must use HTTPS")
    if not same_origin_prefix(prefix, pgt_url):
        return cas.Failure(
            cas.INVALID_PROXY_CALLBACK, "The proxy callback is not registered for this service"
        )
    return None


def _grant_proxy(ticket: CasTicket, pgt_url: str) -> str | cas.Failure:
    """The PGT IOU to return ("" when the callback did not take the PGT), or a refusal."""
    refusal = _callback_refusal(ticket.cas_service, pgt_url)
    if refusal is not None:
        return refusal
    pgt, iou = _new_ticket(PROXY_GRANTING_TICKET_PREFIX), _new_ticket(PGT_IOU_PREFIX)
    if not _deliver_pgt(pgt_url, pgt_id=pgt, pgt_iou=iou):
        return ""
    CasTicket.objects.create(
        ticket_digest=digest(pgt),
        kind=TicketKind.PROXY_GRANTING,
        cas_service=ticket.cas_service,
        service_url=pgt_url,
        user=ticket.user,
        sso_session=ticket.sso_session,
        granted_by=ticket,
        proxies=[pgt_url, *ticket.proxies],
        expires=_in_seconds(settings.CAS_PROXY_GRANTING_TICKET_SECONDS),
    )
    return iou


def _deliver_pgt(pgt_url: str, *, pgt_id: str, pgt_iou: str) -> bool:
    """GET the proxy callback with the PGT and its IOU (specification 2.5.4)."""
    url = append_query(pgt_url, {"pgtIou": pgt_iou, "pgtId": pgt_id})
    try:
        response = requests.get(url, timeout=PROXY_CALLBACK_TIMEOUT, allow_redirects=False)
    except requests.RequestException as error:
        logger.warning("CAS proxy callback unreachable: %s", type(error).__name__)
        return False
    if not 200 <= response.status_code < 300:
        logger.warning("CAS proxy callback answered %s", response.status_code)
        return False
    return True


# --- attributes --------------------------------------------------------------------------


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def cas_attributes(ticket: CasTicket) -> dict[str, cas.AttributeValue]:
    """What ``/p3/`` validation releases: the person's claims and the authentication."""
    claims = person_claims(ticket.user)
    sso_session = ticket.sso_session
    acr = sso_session.acr if sso_session else Acr.PASSWORD
    attributes: dict[str, cas.AttributeValue] = {
        "uid": claims["preferred_username"],
        "givenName": claims["given_name"],
        "sn": claims["family_name"],
        "displayName": claims["name"],
        "mail": claims["email"],
        "profile": list(claims["profile"]),
        "uai": list(claims["establishments"]),
        "schoolYear": str(claims["school_year"]),
        "authenticationDate": _iso(sso_session.auth_time if sso_session else ticket.created),
        "isFromNewLogin": "true" if ticket.from_new_login else "false",
        "longTermAuthenticationRequestTokenUsed": "false",
        "authnContextClass": acr,
        "authenticationMethod": "mfa" if acr == Acr.MFA else "password",
    }
    return {name: value for name, value in attributes.items() if value != ""}
