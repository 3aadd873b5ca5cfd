"""Notices at the top of the sign-in page and the dashboard: a registry apps fill.

An app registers a provider from its ``AppConfig.ready()``; on each page that shows notices
(``{% notices "sign-in" %}``, ``{% notices "dashboard" %}``) every provider is asked for
this request's notices, which must come from memory or the cache: the sign-in page has to
answer when the database does not. A failing provider is left out, never the page.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

logger = logging.getLogger(__name__)


class Place(enum.Enum):
    SIGN_IN = "sign-in"
    DASHBOARD = "dashboard"


@dataclass(frozen=True)
class Notice:
    """One DSFR notice: ``level`` is ``info``, ``warning`` or ``alert``."""

    level: str
    title: str
    text: str = ""
    link_url: str = ""
    link_text: str = ""


Provider = Callable[[HttpRequest, Place], list[Notice]]
Version = Callable[[], str]
_providers: list[Provider] = []
_versions: dict[Provider, Version] = {}


def register(provider: Provider, *, version: Version) -> None:
    """``version`` changes whenever what ``provider`` says of the sign-in page does: a page
    kept whole in the cache (the sign-in page of a fresh browser) is keyed by it."""
    if provider not in _providers:
        _providers.append(provider)
    _versions[provider] = version


def unregister(provider: Provider) -> None:
    if provider in _providers:
        _providers.remove(provider)
    _versions.pop(provider, None)


def version() -> str:
    """Every provider's version, for the key of a page cached whole."""
    found = []
    for provider in _providers:
        try:
            found.append(_versions[provider]())
        except Exception:
            found.append("?")
    return "/".join(found)


def for_request(request: HttpRequest, place: Place) -> list[Notice]:
    found: list[Notice] = []
    for provider in _providers:
        try:
            found.extend(provider(request, place))
        except Exception:
            logger.exception("Notice provider %r failed; its notices are left out.", provider)
    return found
