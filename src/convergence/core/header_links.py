"""Links of the header's tools, next to the person's name, that other apps add (the
webmail's « Messagerie » with its unread count) without core knowing them.

A link may carry a badge: a small fragment fetched by htmx after the page has loaded, so a
slow or absent backend (the mail server) never delays a page; the badge's own view answers
an empty fragment when it has nothing to say. A badge that costs only cache reads (the
notifications' unread count) is rendered in the page instead (``badge``): no request more on
the first visit, and it may poll by itself afterwards. Whether a link is shown is decided by the
app's ``shown_to`` (which must be cheap: it runs on every page of a signed-in person, and a
failure hides the link rather than break the page).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeaderLink:
    slug: str
    label: Any  # a lazy translation
    icon: str  # a DSFR icon class
    url_name: str
    shown_to: Callable[[Any], bool]
    badge_url_name: str = ""
    # Renders the badge within the page (HTML, escaped by the app), for cheap reads only.
    badge: Callable[[Any], str] | None = None


_LINKS: dict[str, HeaderLink] = {}


def register(link: HeaderLink) -> None:
    _LINKS[link.slug] = link


def for_request(request: HttpRequest) -> list[dict[str, str]]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    shown = []
    for link in _LINKS.values():
        try:
            if not link.shown_to(user):
                continue
        except Exception:
            logger.exception("Header link %s: cannot tell whether to show it.", link.slug)
            continue
        shown.append(
            {
                "slug": link.slug,
                "label": str(link.label),
                "icon": link.icon,
                "url": reverse(link.url_name),
                "badge_url": reverse(link.badge_url_name) if link.badge_url_name else "",
                "badge_html": _badge_html(link, user),
            }
        )
    return shown


def _badge_html(link: HeaderLink, user: Any) -> str:
    if link.badge is None:
        return ""
    try:
        return link.badge(user)
    except Exception:
        logger.exception("Header link %s: cannot render its badge.", link.slug)
        return ""
