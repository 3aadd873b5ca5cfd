"""Absolute links to the portal, for e-mails, letters and recovery alike: one rule.

A link always names the académie's official host (``Academie.official_host``, else the
``CONVERGENCE_OFFICIAL_HOST`` setting), never the Host header of the request that caused it:
a forged Host header must not turn a reset link into a link to someone else's server. Only
when neither is set (a bare development checkout) does the request's host stand in.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from convergence.core.models import Academie


def portal_host(request: HttpRequest | None = None) -> str:
    """Where the portal is served: the académie's official host, else the request's."""
    host = Academie.current().official_host or settings.OFFICIAL_HOST
    if not host and request is not None:
        host = request.get_host()
    return str(host)


def absolute_url(path: str = "/", request: HttpRequest | None = None) -> str:
    """``path`` on the official host, with the scheme the portal is served with."""
    scheme = "https" if settings.HTTPS else "http"
    return f"{scheme}://{portal_host(request)}{path}"


def base_url(request: HttpRequest | None = None) -> str:
    """The portal's root without its trailing slash, to which a reversed path is appended."""
    return absolute_url("", request)
