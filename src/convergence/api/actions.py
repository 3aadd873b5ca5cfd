"""Every write of the API: a service's notification, accepted once per idempotency key."""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from convergence.api import audience, errors, events, limits
from convergence.api.auth import Caller
from convergence.api.models import IdempotentRequest
from convergence.audit.actions import record_event
from convergence.core.notify import TITLE_LENGTH, notify

ACCEPTED = 202


@dataclass(frozen=True)
class Outcome:
    """The answer to give: the first one again when ``replayed``."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def notification_key(caller: Caller, idempotency_key: str) -> str:
    """``notify``'s own key for this call (its second guard against a double send): the
    client and a digest of the idempotency key, within ``core.notify.KEY_LENGTH``."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"api-{caller.oidc_client.pk}-{digest}"


def signed_title(caller: Caller, title: str) -> str:
    """The notification's title after the service's name (« Arena : … »): a push or an
    e-mail subject shows the title, not always the end of the body, so the service is named
    where it is always seen. The service's words are trimmed, never its name."""
    name = " ".join(caller.service.name.split())
    signed = _("%(service)s : %(title)s") % {"service": name, "title": title}
    excess = len(signed) - TITLE_LENGTH
    if excess > 0:
        shortened = title[: max(0, len(title) - excess - 1)].rstrip() + "…"
        signed = _("%(service)s : %(title)s") % {"service": name, "title": shortened}
    return signed[:TITLE_LENGTH]


def signed_body(caller: Caller, text: str) -> str:
    """The notification's text, followed by the service that sent it (a service cannot pass
    itself off as the portal)."""
    signature = _("Envoyé par le service « %(service)s ».") % {"service": caller.service.name}
    return f"{text}\n\n{signature}" if text else signature


def _conflict() -> errors.ApiProblem:
    return errors.ApiProblem(
        409,
        "cle_idempotence_reutilisee",
        _("Clé d'idempotence déjà utilisée"),
        _(
            "Cette clé d'idempotence a déjà servi pour une autre requête de ce service dans "
            "les dernières 24 heures : choisissez une nouvelle clé pour un nouvel envoi."
        ),
    )


def post_notification(
    *,
    caller: Caller,
    idempotency_key: str,
    fingerprint: str,
    recipients: list[str],
    category: str,
    title: str,
    text: str,
    url: str,
    request: HttpRequest | None = None,
) -> Outcome:
    """Notify the people among ``recipients`` whom the caller's service serves.

    The caller (a service, not a person) is the acting party. One transaction: the key is
    claimed first by inserting its row (unique per client: of two identical calls at once,
    the second waits for the first and replays its answer), the recipients are counted
    against the client's hourly limit, ``core.notify.notify`` stores the notifications (title
    and body signed with the service's name; :func:`notification_key`, a second guard), the
    answer is kept on the row and ``api.notifications_posted`` audited. The same key with
    the same request within ``API_IDEMPOTENCY_HOURS`` replays the stored answer and writes
    nothing; with another request it raises a 409 ``ApiProblem``; a 429 writes nothing
    either.
    """
    client = caller.oidc_client
    expired = timezone.now() - datetime.timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    with transaction.atomic():
        IdempotentRequest.objects.filter(
            oidc_client=client, key=idempotency_key, created__lt=expired
        ).delete()
        try:
            with transaction.atomic():
                row = IdempotentRequest.objects.create(
                    oidc_client=client,
                    key=idempotency_key,
                    fingerprint=fingerprint,
                    status=ACCEPTED,
                )
        except IntegrityError:
            first = IdempotentRequest.objects.filter(
                oidc_client=client, key=idempotency_key
            ).first()
            if first is None or first.fingerprint != fingerprint:
                raise _conflict() from None
            return Outcome(first.status, dict(first.response), replayed=True)
        given = list(dict.fromkeys(recipients))
        limits.reserve_recipients(caller.client_id, len(given))
        people, ignored = audience.resolve(caller.service, given)
        created = notify(
            people,
            category=category,
            title=signed_title(caller, title),
            body=signed_body(caller, text),
            url=url,
            key=notification_key(caller, idempotency_key),
        )
        answer: dict[str, Any] = {"id": str(row.public_id), "notifies": created, "ignores": ignored}
        row.response = answer
        row.save(update_fields=["response"])
        record_event(
            event_type=events.NOTIFICATIONS_POSTED,
            request=request,
            data={
                "client": caller.client_id,
                "service": caller.service.slug,
                "category": category,
                "notified": created,
                "ignored": len(ignored),
                "request_id": str(row.public_id),
            },
        )
    return Outcome(ACCEPTED, answer)


def purge_idempotent_requests(*, now: datetime.datetime | None = None) -> int:
    """Delete the answers kept past ``API_IDEMPOTENCY_HOURS``; how many. Not audited: they
    are a cache of answers, the audit trail keeps each accepted call."""
    moment = now or timezone.now()
    expired = moment - datetime.timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    deleted, _details = IdempotentRequest.objects.filter(created__lt=expired).delete()
    return deleted
