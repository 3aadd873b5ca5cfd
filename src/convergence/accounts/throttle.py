"""Sign-in throttling with growing delays: attackers are slowed, real users are never locked out.

Three counters of failures live in the shared cache (atomic ``incr``; Redis in production):

* per (account, address) pair — a guesser at one account from one place;
* per address — one place guessing many accounts (generous: a school's pupils share one
  public address);
* per account, from every address — a guesser spread over many places. This one does not
  apply to a browser that has already signed in to the account (a signed *device cookie*,
  OWASP's "device cookies" scheme), so the real user still gets in while the account is
  under attack.

Past the free failures of a counter, each further attempt must wait ``2^(n - free - 1)`` seconds
after the last failure, capped at ``THROTTLE_MAX_DELAY_SECONDS``. Counters expire after
``THROTTLE_WINDOW_SECONDS`` of quiet; nothing is ever locked for good, and an administrator
can clear them at once (``actions.clear_throttle``).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache

DEVICE_COOKIE_SALT = "convergence.accounts.device"
DEVICE_COOKIE_MAX_AGE = 180 * 24 * 3600


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"throttle:{kind}:{digest}"


def account_key(identifier: str, user_pk: int | None) -> str:
    """One key per account whichever identifier was typed (login or e-mail)."""
    return f"user:{user_pk}" if user_pk is not None else f"id:{identifier.strip().lower()}"


def _counters(account: str, ip: str) -> dict[str, tuple[str, int]]:
    return {
        "pair": (_key("pair", f"{account}|{ip}"), settings.THROTTLE_PAIR_FREE),
        "ip": (_key("ip", ip), settings.THROTTLE_IP_FREE),
        "account": (_key("account", account), settings.THROTTLE_ACCOUNT_FREE),
    }


def delay_for(failures: int, free: int) -> int:
    """Seconds to wait after the last failure once ``failures`` exceed ``free``."""
    if failures <= free:
        return 0
    exponent = min(failures - free - 1, 30)
    return int(min(2**exponent, settings.THROTTLE_MAX_DELAY_SECONDS))


def check(account: str, ip: str, *, trusted_device: bool = False) -> Verdict:
    """May this attempt be judged now? Reads three counters in one cache round trip."""
    counters = _counters(account, ip)
    if trusted_device:
        counters.pop("account")
    keys = [key for key, _ in counters.values()]
    stored = cache.get_many(keys + [f"{key}:last" for key in keys])
    now = time.time()
    wait = 0.0
    for key, free in counters.values():
        failures = int(stored.get(key, 0))
        last = float(stored.get(f"{key}:last", 0))
        remaining = last + delay_for(failures, free) - now
        wait = max(wait, remaining)
    if wait > 0:
        return Verdict(allowed=False, retry_after=math.ceil(wait))
    return Verdict(allowed=True)


def record_failure(account: str, ip: str) -> None:
    """Count one failure on each counter (atomic increments) and stamp its time."""
    window = settings.THROTTLE_WINDOW_SECONDS
    now = time.time()
    stamps = {}
    for key, _free in _counters(account, ip).values():
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
        cache.touch(key, timeout=window)
        stamps[f"{key}:last"] = now
    cache.set_many(stamps, timeout=window)


def record_success(account: str, ip: str) -> None:
    """A success clears the pair's counter only, so successes cannot launder an attack."""
    key, _free = _counters(account, ip)["pair"]
    cache.delete_many([key, f"{key}:last"])


def clear(account: str) -> None:
    """Clear the account-wide counter (administrator action)."""
    key, _free = _counters(account, "")["account"]
    cache.delete_many([key, f"{key}:last"])


def device_cookie_name() -> str:
    return "__Host-convergence-device" if settings.HTTPS else "convergence-device"


def device_cookie_value(user_pk: int) -> str:
    return signing.dumps({"u": user_pk}, salt=DEVICE_COOKIE_SALT, compress=True)


def device_is_trusted_for(cookie: str | None, user_pk: int | None) -> bool:
    if not cookie or user_pk is None:
        return False
    try:
        payload = signing.loads(cookie, salt=DEVICE_COOKIE_SALT, max_age=DEVICE_COOKIE_MAX_AGE)
    except signing.BadSignature:
        return False
    return isinstance(payload, dict) and payload.get("u") == user_pk
