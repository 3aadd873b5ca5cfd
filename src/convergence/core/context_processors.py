"""Template context every page needs: the académie's identity, the host warning and the
current entry of the header menu."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from convergence.core import header_links as header_links_registry
from convergence.core.models import Academie
from convergence.core.navigation import menu_context


def academie(request: HttpRequest) -> dict[str, Any]:
    current = Academie.current()
    official_host = current.official_host or settings.OFFICIAL_HOST
    host = request.get_host() if hasattr(request, "META") else ""
    return {
        "academie": current,
        "official_host": official_host,
        "official_url": f"{'https' if settings.HTTPS else 'http'}://{official_host}/",
        "unofficial_host": bool(host) and host.lower() != official_host.lower(),
        "state_brand": settings.STATE_BRAND,
    }


def shell_facts(request: HttpRequest) -> tuple[object, ...]:
    """What the page shell (header and footer) prints of the académie and the host: a page
    kept whole in the cache (``core.fragments``) is keyed by these, so a renamed académie,
    a new logo or accessibility status, or a visit on an unofficial host gets a fresh one."""
    context = academie(request)
    current = context["academie"]
    return (
        current.name,
        current.mail_domain,
        current.logo.name if current.logo else "",
        current.accessibility_status,  # the footer says it
        context["state_brand"],
        context["official_host"],
        context["unofficial_host"],
    )


def shows_nothing_personal(request: HttpRequest) -> bool:
    """No session or message cookie: nothing of this browser's own can show on its page."""
    cookies = request.COOKIES
    return (
        settings.SESSION_COOKIE_NAME not in cookies and settings.MESSAGE_COOKIE_NAME not in cookies
    )


def navigation(request: HttpRequest) -> dict[str, str]:
    """Which entry of the header menu is current (``core/navigation.py``)."""
    return menu_context(request)


def header_links(request: HttpRequest) -> dict[str, Any]:
    """The links other apps add to the header's tools (``core/header_links.py``)."""
    return {"header_links": header_links_registry.for_request(request)}
