"""What the public notice on personal data (/donnees-personnelles/) says the portal keeps, for
how long, and which cookies it sets.

Each app declares the data it holds and the cookies it gives, from its own
``personal_data.register()`` (called by its ``AppConfig.ready()``): the durations are
functions read at each rendering, from the same settings and constants the app's purges use,
so the page stays true when a setting changes. Core reads none of the other apps' code.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import ngettext

# A duration as the page tells it, or None when this kind of data is not kept at all in the
# running configuration (the line is then left out).
Retention = Callable[[], str | Promise | None]


@dataclass(frozen=True)
class Kept:
    """One kind of personal data: what it is, why it is kept, for how long."""

    key: str
    title: str | Promise
    what: str | Promise
    purpose: str | Promise
    retention: Retention
    order: int


@dataclass(frozen=True)
class Cookie:
    """A cookie (or an entry of the browser's storage) and why it is strictly necessary."""

    key: str
    name: Callable[[], str]
    purpose: str | Promise
    lifetime: Callable[[], str | Promise]
    order: int


@dataclass(frozen=True)
class Line:
    """A declaration as the page shows it, its durations computed."""

    title: str
    what: str
    purpose: str
    retention: str


@dataclass(frozen=True)
class CookieLine:
    name: str
    purpose: str
    lifetime: str


_KEPT: dict[str, Kept] = {}
_COOKIES: dict[str, Cookie] = {}


def declare_kept(
    key: str,
    title: str | Promise,
    *,
    what: str | Promise,
    purpose: str | Promise,
    retention: Retention,
    order: int = 100,
) -> None:
    """Declare a kind of personal data the app keeps (re-declaring a key replaces it)."""
    _KEPT[key] = Kept(
        key=key, title=title, what=what, purpose=purpose, retention=retention, order=order
    )


def declare_cookie(
    key: str,
    *,
    name: Callable[[], str],
    purpose: str | Promise,
    lifetime: Callable[[], str | Promise],
    order: int = 100,
) -> None:
    """Declare a cookie the app sets (re-declaring a key replaces it)."""
    _COOKIES[key] = Cookie(key=key, name=name, purpose=purpose, lifetime=lifetime, order=order)


def kept() -> list[Line]:
    """Every declared kind of data kept in this configuration, in order."""
    lines = []
    for entry in sorted(_KEPT.values(), key=lambda entry: (entry.order, entry.key)):
        retention = entry.retention()
        if retention is None:
            continue
        lines.append(
            Line(
                title=str(entry.title),
                what=str(entry.what),
                purpose=str(entry.purpose),
                retention=str(retention),
            )
        )
    return lines


def cookies() -> list[CookieLine]:
    return [
        CookieLine(name=entry.name(), purpose=str(entry.purpose), lifetime=str(entry.lifetime()))
        for entry in sorted(_COOKIES.values(), key=lambda entry: (entry.order, entry.key))
    ]


def duration(value: datetime.timedelta | int) -> str:
    """A duration in French words, in its largest whole unit: "92 jours", "8 heures",
    "30 minutes" (``value`` a timedelta or seconds)."""
    seconds = int(value.total_seconds() if isinstance(value, datetime.timedelta) else value)
    if seconds >= 86400 and seconds % 86400 == 0:
        days = seconds // 86400
        return ngettext("%(count)d jour", "%(count)d jours", days) % {"count": days}
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("%(count)d heure", "%(count)d heures", hours) % {"count": hours}
    if seconds >= 60 and seconds % 60 == 0:
        minutes = seconds // 60
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    return ngettext("%(count)d seconde", "%(count)d secondes", seconds) % {"count": seconds}
