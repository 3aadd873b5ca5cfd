"""Sign-in throttling: attackers are slowed, real people are never locked out (docs/security.md).

One attempt — a password, or a second-factor code after it — is judged by :func:`begin`, which
*reserves* its place on each counter (atomic increments in the shared cache, through
``core.ratelimit``) before the password or code is checked, so a burst of parallel attempts
cannot slip past a limit. The attempt then ends as :meth:`Attempt.failed`, :meth:`Attempt.
succeeded` or, when refused, releases what it reserved. Which counters apply:

* a browser holding the signed *device cookie* of the account (it signed in to it before) is
  judged only by its own failures (``device``): nobody else's failures, on that account or
  from that address, can refuse it;
* any other browser is judged by the failures on the (account, address) pair (``pair``), on
  the account from every address (``account``; a distributed guess), and by the address's
  safety net (``address``): how many *distinct* identifiers failed from it within the window,
  sized for a school of 2,000 pupils behind one address;
* the spraying detector (:func:`_detect`) watches failures across accounts — per address, per
  network (IPv4 /24, IPv6 /56), académie-wide, and one same wrong password on many accounts —
  and paces the sources it flags (one attempt every few seconds) for browsers without the
  account's device cookie; the caller alerts the DSI (``Attempt.failed`` returns what tripped).

Past the free failures of a counter each further attempt waits ``2^(n - free - 1)`` seconds
after the last one, capped at ``THROTTLE_MAX_DELAY_SECONDS``. Counters expire after
``THROTTLE_WINDOW_SECONDS`` of quiet; nothing is locked for good, and an administrator can
clear an account's counters at once (``actions.clear_throttle``).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponseBase

from convergence.accounts.passwords import normalise
from convergence.core import ratelimit

DEVICE_COOKIE_SALT = "convergence.accounts.device"
DEVICE_COOKIE_MAX_AGE = 180 * 24 * 3600

PASSWORD = "password"  # noqa: S105 - the name of a scope, not a secret
SECOND_FACTOR = "mfa"

# Reasons an attempt is refused; ``account`` is the one a real person in a new browser meets
# during a distributed attack on their account, and is offered a link by e-mail for.
PAIR = "pair"
ACCOUNT = "account"
DEVICE = "device"
ADDRESS = "address"
SPRAY = "spray"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0
    reason: str = ""


@dataclass(frozen=True)
class Detection:
    """Something the spraying detector flagged: ``scope`` is address, network, academie or
    password; ``value`` the address or network (empty for the others)."""

    scope: str
    value: str
    failures: int


def delay_for(failures: int, free: int) -> int:
    """Seconds to wait after the last failure once ``failures`` exceed ``free``."""
    if failures <= free:
        return 0
    exponent = min(failures - free - 1, 30)
    return int(min(2**exponent, settings.THROTTLE_MAX_DELAY_SECONDS))


def account_key(identifier: str, user_pk: int | None) -> str:
    """One key per account whichever identifier was typed (login or e-mail)."""
    return f"user:{user_pk}" if user_pk is not None else f"id:{identifier.strip().lower()}"


def network_of(ip: str) -> str:
    """The network an address belongs to for the detector: IPv4 /24, IPv6 /56."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    prefix = 24 if address.version == 4 else 56
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def password_digest(password: str) -> str:
    """A short keyed digest of a *wrong* password, to see one password tried on many accounts.

    32 bits of an HMAC keyed with the secret key: enough to tell a spray (hundreds of accounts
    with one password) from chance, too short to confirm a guess offline. Kept in the cache only
    for the detector's window, hashed again into a key (``ratelimit.key``).
    """
    secret = hashlib.sha256(f"{settings.SECRET_KEY}|throttle.spray".encode()).digest()
    message = normalise(password)[:4096].encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:8]


@dataclass(frozen=True)
class _Counter:
    name: str
    key: str
    free: int


def _counters(scope: str, account: str, ip: str, device: str | None) -> list[_Counter]:
    if scope == SECOND_FACTOR:
        pair_free, account_free = (
            settings.MFA_THROTTLE_PAIR_FREE,
            settings.MFA_THROTTLE_ACCOUNT_FREE,
        )
    else:
        pair_free, account_free = settings.THROTTLE_PAIR_FREE, settings.THROTTLE_ACCOUNT_FREE
    if device is not None:
        return [_Counter(DEVICE, ratelimit.key(f"{scope}-device", account, device), pair_free)]
    return [
        _Counter(PAIR, ratelimit.key(f"{scope}-pair", account, ip), pair_free),
        _Counter(ACCOUNT, ratelimit.key(f"{scope}-account", account), account_free),
    ]


# How long an attempt may stay "in flight" (its password being checked) at most: a process
# that died mid-attempt stops holding the next ones after this.
IN_FLIGHT_SECONDS = 60


def _in_flight_key(counter: _Counter) -> str:
    return f"{counter.key}:in-flight"


def _address_key(scope: str, ip: str) -> str:
    return ratelimit.key(f"{scope}-address", ip)


def _address_free(scope: str) -> int:
    if scope == SECOND_FACTOR:
        return int(settings.MFA_THROTTLE_IP_FREE)
    return int(settings.THROTTLE_IP_DISTINCT_FREE)


def _minute(now: float) -> int:
    return int(now // 60)


def _flag_key(scope: str, value: str) -> str:
    return ratelimit.key("spray-flag", scope, value)


@dataclass
class Attempt:
    """One attempt admitted by :func:`begin`, holding its reserved places until it ends."""

    scope: str
    account: str
    ip: str
    device: str | None
    reserved: list[_Counter] = field(default_factory=list)
    ended: bool = False

    def _end(self) -> None:
        if self.ended:
            raise RuntimeError("attempt already ended")
        self.ended = True

    def _leave(self) -> None:
        ratelimit.release_many([_in_flight_key(counter) for counter in self.reserved])

    def release(self) -> None:
        """The attempt was not judged after all: give its places back."""
        self._end()
        ratelimit.release_many(
            [key for counter in self.reserved for key in (counter.key, _in_flight_key(counter))]
        )

    def succeeded(self) -> None:
        """The password or code was right: it does not count as a failure.

        Only the attempt's own places are given back (the account-wide counter keeps the
        attacker's failures, so that successes cannot launder an attack); the browser's own
        counter is cleared when the whole sign-in completes (:func:`signed_in`).
        """
        self.release()

    def failed(self, *, password: str = "") -> list[Detection]:
        """The password or code was wrong: the reserved places stay, stamped now. Returns what
        the spraying detector flagged for the first time (for the caller to alert)."""
        self._end()
        window = settings.THROTTLE_WINDOW_SECONDS
        now = time.time()
        touched = [counter.key for counter in self.reserved]
        stamps = {f"{counter.key}:last": now for counter in self.reserved}
        if self.device is None:
            # The address counts the distinct accounts that failed from it, in both scopes:
            # one person failing again and again on one account counts once.
            address = _address_key(self.scope, self.ip)
            ratelimit.count_distinct(address, self.account, window=window)
            touched.append(address)
            stamps[f"{address}:last"] = now
        ratelimit.touch_many(touched, window=window)
        ratelimit.write(stamps, window=window)
        # Stamped first, then out of flight: whoever is judged next sees this failure.
        self._leave()
        if self.scope != PASSWORD:
            return []
        return _detect(account=self.account, ip=self.ip, password=password, now=now)


def _trip(scope: str, value: str, failures: int, now: float) -> Detection | None:
    """Flag ``scope``/``value`` for the flag period; a :class:`Detection` the first time."""
    period = settings.THROTTLE_SPRAY_FLAG_SECONDS
    ratelimit.write({_flag_key(scope, value): now}, window=period)
    # One alert per flag period: the first failure over the line in each period wins it.
    alert = ratelimit.key("spray-alert", scope, value, int(now // period))
    if ratelimit.first_time(alert, window=period):
        return Detection(scope=scope, value=value, failures=failures)
    return None


def _detect(*, account: str, ip: str, password: str, now: float) -> list[Detection]:
    """Count one failure on the detector's per-minute counters; flag what crosses a line."""
    minute = _minute(now)
    found: list[Detection | None] = []
    distinct, _new = ratelimit.count_distinct(
        ratelimit.key("spray-address", ip, minute), account, window=120
    )
    if distinct >= settings.THROTTLE_SPRAY_ADDRESS_PER_MINUTE:
        found.append(_trip("address", ip, distinct, now))
    network = network_of(ip)
    in_network, everywhere = ratelimit.reserve_many(
        [
            (ratelimit.key("spray-network", network, minute), 120),
            (ratelimit.key("spray-academie", minute), 120),
        ]
    )
    if in_network >= settings.THROTTLE_SPRAY_NETWORK_PER_MINUTE:
        found.append(_trip("network", network, in_network, now))
    if everywhere >= settings.THROTTLE_SPRAY_ACADEMIE_PER_MINUTE:
        found.append(_trip("academie", "", everywhere, now))
    if password:
        digest = password_digest(password)
        accounts, _new = ratelimit.count_distinct(
            ratelimit.key("spray-password", digest),
            account,
            window=settings.THROTTLE_SPRAY_PASSWORD_WINDOW_SECONDS,
        )
        if accounts >= settings.THROTTLE_SPRAY_PASSWORD_ACCOUNTS:
            found.append(_trip("password", digest, accounts, now))
    return [detection for detection in found if detection is not None]


def _flagged(flagged_at: object, now: float) -> bool:
    """A flag holds for the flag period after it was raised (by the throttle's clock)."""
    return flagged_at is not None and now - float(str(flagged_at)) < (
        settings.THROTTLE_SPRAY_FLAG_SECONDS
    )


def _spray_flag_keys(ip: str, password: str, now: float) -> dict[str, str]:
    keys = {
        "address": _flag_key("address", ip),
        "network": _flag_key("network", network_of(ip)),
        "academie": _flag_key("academie", ""),
        "source": ratelimit.key("spray-address", ip, _minute(now)),
    }
    if password:
        keys["password"] = _flag_key("password", password_digest(password))
    return keys


def _spray_verdict(ip: str, now: float, flags: dict[str, object]) -> Verdict | None:
    """Refusal by the spraying detector for a browser without the account's device cookie;
    ``flags`` holds what :func:`_spray_flag_keys` names, read with the address."""
    period = settings.THROTTLE_SPRAY_FLAG_SECONDS
    flagged_at = flags.get("password")
    if _flagged(flagged_at, now):
        wait = math.ceil(float(str(flagged_at)) + period - now)
        return Verdict(allowed=False, retry_after=max(1, wait), reason=SPRAY)
    paced = _flagged(flags.get("address"), now) or _flagged(flags.get("network"), now)
    if not paced and _flagged(flags.get("academie"), now):
        # An académie-wide wave: pace the addresses taking part in it, not every school.
        recent = int(str(flags.get("source") or 0))
        paced = recent >= settings.THROTTLE_SPRAY_SOURCE_PER_MINUTE
    if not paced:
        return None
    # One attempt per slot of THROTTLE_SPRAY_PACE_SECONDS for the source.
    pace = settings.THROTTLE_SPRAY_PACE_SECONDS
    slot = int(now // pace)
    if ratelimit.first_time(ratelimit.key("spray-pace", ip, slot), window=2 * pace):
        return None
    retry_after = max(1, math.ceil((slot + 1) * pace - now))
    return Verdict(allowed=False, retry_after=retry_after, reason=SPRAY)


def begin(
    scope: str,
    *,
    account: str,
    ip: str,
    device_cookie: str | None = None,
    password: str = "",
) -> tuple[Verdict, Attempt | None]:
    """Judge one attempt before its secret is checked: a verdict, and the admitted attempt.

    ``device_cookie`` is the browser's device cookie when it is trusted for this account.
    An admitted attempt costs two cache round trips (one read of the address and the spraying
    flags, one batch of reservations), and one more per counter past its free failures.
    """
    now = time.time()
    device = hashlib.sha256(device_cookie.encode()).hexdigest()[:32] if device_cookie else None
    counters = _counters(scope, account, ip, device)
    sprayable = device is None and scope == PASSWORD
    if device is None:
        address = _address_key(scope, ip)
        flags = _spray_flag_keys(ip, password, now) if sprayable else {}
        stored = ratelimit.read([address, f"{address}:last", *flags.values()])
        failures = int(stored.get(address, 0))
        last = float(stored.get(f"{address}:last", 0))
        wait = last + delay_for(failures, _address_free(scope)) - now
        if wait > 0:
            return Verdict(allowed=False, retry_after=math.ceil(wait), reason=ADDRESS), None
    attempt = Attempt(scope=scope, account=account, ip=ip, device=device)
    window = settings.THROTTLE_WINDOW_SECONDS
    # In flight first, then the place, counter by counter and in this order: an attempt that
    # took a lower place is already counted in flight when a later one looks.
    places = ratelimit.reserve_many(
        [
            item
            for counter in counters
            for item in ((_in_flight_key(counter), IN_FLIGHT_SECONDS), (counter.key, window))
        ]
    )[1::2]
    attempt.reserved = list(counters)
    refusal: Verdict | None = None
    for counter, place in zip(counters, places, strict=True):
        delay = delay_for(place - 1, counter.free)
        if delay == 0:
            continue  # within the free failures: judged, however many at once
        # Past them, an attempt is judged alone, once every attempt before it has ended and
        # stamped its failure, and only when its delay since the last failure has passed.
        in_flight, stamp = _in_flight_key(counter), f"{counter.key}:last"
        now_stored = ratelimit.read([in_flight, stamp])
        if int(now_stored.get(in_flight, 0)) > 1:
            wait = 1.0
        else:
            wait = float(now_stored.get(stamp, 0)) + delay - now
        if wait > 0 and (refusal is None or wait > refusal.retry_after):
            refusal = Verdict(allowed=False, retry_after=math.ceil(wait), reason=counter.name)
    if refusal is None and sprayable:
        refusal = _spray_verdict(ip, now, {name: stored.get(key) for name, key in flags.items()})
    if refusal is not None:
        attempt.release()
        return refusal, None
    return Verdict(allowed=True), attempt


def signed_in(account: str, ip: str, device_cookie: str | None) -> None:
    """A whole sign-in completed: clear the browser's own counters (pair, or device).

    The account-wide counter is kept, so that successes cannot launder an attack.
    """
    keys = []
    for scope in (PASSWORD, SECOND_FACTOR):
        for counter in _counters(scope, account, ip, None):
            if counter.name == PAIR:
                keys += [counter.key, f"{counter.key}:last"]
        if device_cookie:
            device = hashlib.sha256(device_cookie.encode()).hexdigest()[:32]
            (counter,) = _counters(scope, account, ip, device)
            keys += [counter.key, f"{counter.key}:last"]
    ratelimit.forget(keys)


def clear(account: str) -> None:
    """Clear the account-wide counters (administrator action)."""
    keys = []
    for scope in (PASSWORD, SECOND_FACTOR):
        for counter in _counters(scope, account, "", None):
            if counter.name == ACCOUNT:
                keys += [counter.key, f"{counter.key}:last"]
    ratelimit.forget(keys)


def device_cookie_name() -> str:
    return "__Host-convergence-device" if settings.HTTPS else "convergence-device"


def device_cookie_value(user_pk: int) -> str:
    return signing.dumps({"u": user_pk}, salt=DEVICE_COOKIE_SALT, compress=True)


def give_device_cookie(response: HttpResponseBase, *, request: HttpRequest, user_pk: int) -> None:
    """Mark the browser as known for the account (the one way the device cookie is given)."""
    response.set_cookie(
        device_cookie_name(),
        device_cookie_value(user_pk),
        max_age=DEVICE_COOKIE_MAX_AGE,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


def device_is_trusted_for(cookie: str | None, user_pk: int | None) -> bool:
    if not cookie or user_pk is None:
        return False
    try:
        payload = signing.loads(cookie, salt=DEVICE_COOKIE_SALT, max_age=DEVICE_COOKIE_MAX_AGE)
    except signing.BadSignature:
        return False
    return isinstance(payload, dict) and payload.get("u") == user_pk


def trusted_cookie(cookie: str | None, user_pk: int | None) -> str | None:
    """The browser's device cookie if it is trusted for ``user_pk``, else None."""
    return cookie if device_is_trusted_for(cookie, user_pk) else None
