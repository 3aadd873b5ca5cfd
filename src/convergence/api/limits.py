"""The API's limits per client, on the one limiter (``core.ratelimit``): requests a minute
and recipients an hour (settings ``API_REQUESTS_PER_MINUTE``, ``API_RECIPIENTS_PER_HOUR``).

Atomic (each call reserves its place before it is judged) and closed when the cache is down
(``LimiterUnavailable`` becomes a 503 with ``Retry-After``): a 429 says how long to wait.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from convergence.api import errors
from convergence.core import ratelimit

MINUTE = 60
HOUR = 3600


def _refuse(wait: int, detail: str) -> errors.ApiProblem:
    return errors.ApiProblem(
        429,
        "trop_de_requetes",
        _("Trop de requêtes"),
        detail,
        headers={"Retry-After": str(wait)},
    )


def _guarded_hit(counter: str, *, limit: int, window: int, amount: int = 1) -> int:
    try:
        return ratelimit.hit(counter, limit=limit, window=window, amount=amount)
    except ratelimit.LimiterUnavailable as error:
        raise errors.unavailable() from error


def count_request(client_id: str) -> None:
    """Count one request of ``client_id``; a 429 past ``API_REQUESTS_PER_MINUTE``."""
    limit = settings.API_REQUESTS_PER_MINUTE
    wait = _guarded_hit(ratelimit.key("api-requests", client_id), limit=limit, window=MINUTE)
    if wait:
        raise _refuse(
            wait, _("Au plus %(limit)s requêtes par minute pour un service.") % {"limit": limit}
        )


def reserve_recipients(client_id: str, count: int) -> None:
    """Count ``count`` recipients of ``client_id``; a 429 past ``API_RECIPIENTS_PER_HOUR``
    (the refused ones stay counted: a client past its limit waits for the window's end)."""
    limit = settings.API_RECIPIENTS_PER_HOUR
    counter = ratelimit.key("api-recipients", client_id)
    wait = _guarded_hit(counter, limit=limit, window=HOUR, amount=count)
    if wait:
        raise _refuse(
            wait,
            _("Au plus %(limit)s destinataires par heure pour un service.") % {"limit": limit},
        )
