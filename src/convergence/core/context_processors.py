"""Template context every page needs: the académie's identity, the host warning and the
current entry of the header menu."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

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


def navigation(request: HttpRequest) -> dict[str, str]:
    """Which entry of the header menu is current (``core/navigation.py``)."""
    return menu_context(request)
