"""The API's limits, on the one limiter (``core.ratelimit``): per client, requests a minute
and recipients an hour (settings ``API_REQUESTS_PER_MINUTE``, ``API_RECIPIENTS_PER_HOUR``);
per address, refused tokens a minute (``API_BAD_TOKENS_PER_MINUTE``).

Atomic (each call reserves its place before it is judged) and closed when the cache is down
(``LimiterUnavailable`` becomes a 503 with ``Retry-After``): a 429 says how long to wait.
"""

from __future__ import annotations

import math
import time

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


def _bad_tokens(address: str) -> str:
    return ratelimit.key("api-bad-tokens", address)


def refuse_if_guessing(address: str) -> None:
    """A 429 for ``address`` once it has had ``API_BAD_TOKENS_PER_MINUTE`` tokens refused in
    the window, before its token is even read: guesses past the limit are not tried. An
    address whose calls succeed is never counted, so a service is not slowed by others'
    failures from elsewhere."""
    limit = settings.API_BAD_TOKENS_PER_MINUTE
    counter = _bad_tokens(address)
    try:
        values = ratelimit.read([counter, f"{counter}:start"])
    except ratelimit.LimiterUnavailable as error:
        raise errors.unavailable() from error
    if int(values.get(counter) or 0) < limit:
        return
    now = time.time()
    start = float(values.get(f"{counter}:start") or now)
    raise _refuse(max(1, math.ceil(start + MINUTE - now)), _bad_tokens_detail(limit))


def count_bad_token(address: str) -> None:
    """Count one refused token (a 401) from ``address``; a 429 instead past the limit (calls
    that reached the count together, past the check of :func:`refuse_if_guessing`)."""
    limit = settings.API_BAD_TOKENS_PER_MINUTE
    wait = _guarded_hit(_bad_tokens(address), limit=limit, window=MINUTE)
    if wait:
        raise _refuse(wait, _bad_tokens_detail(limit))


def _bad_tokens_detail(limit: int) -> str:
    return _(
        "Au plus %(limit)s jetons refusés par minute depuis une même adresse : vérifiez "
        "le jeton du service, puis réessayez plus tard."
    ) % {"limit": limit}
