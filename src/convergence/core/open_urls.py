"""Pages that stay reachable when the portal otherwise turns people away: during maintenance
(everyone but staff gets a 503) and while a person whose role requires a second factor has not
enrolled one yet (every other page sends them to enrolment).

Each app declares its own pages from its ``AppConfig.ready()`` with :func:`register`, by URL
name (resolved at the first request) or by path prefix; nothing here names another app's URLs.
"""

from __future__ import annotations

import functools
from enum import Enum

from django.conf import settings
from django.urls import NoReverseMatch, reverse


class During(Enum):
    MAINTENANCE = "maintenance"
    ENROLMENT = "enrolment"


_ENTRIES: dict[During, set[str]] = {during: set() for during in During}


def register(*names_or_prefixes: str, during: tuple[During, ...]) -> None:
    """Keep these pages open ``during`` the given situations; each one is a URL name, or a
    path prefix when it starts with ``/`` (every page under it)."""
    for situation in during:
        _ENTRIES[situation].update(names_or_prefixes)
    prefixes.cache_clear()


@functools.cache
def prefixes(during: During) -> tuple[str, ...]:
    """The open path prefixes: static and media files always, then every declared page."""
    found = [settings.STATIC_URL or "/static/", settings.MEDIA_URL or "/media/"]
    for entry in sorted(_ENTRIES[during]):
        if entry.startswith("/"):
            found.append(entry)
            continue
        try:
            found.append(reverse(entry))
        except NoReverseMatch:
            continue
    return tuple(prefix if prefix.startswith("/") else f"/{prefix}" for prefix in found)


def is_open(path: str, during: During) -> bool:
    return path.startswith(prefixes(during))
