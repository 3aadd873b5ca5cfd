"""``{% notices "sign-in" %}``: the notices apps registered for this page (``core.notices``)."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from convergence.core import notices as registry

register = template.Library()


@register.simple_tag(takes_context=True)
def notices(context: dict[str, Any], place: str) -> SafeString:
    request = context.get("request")
    if request is None:
        return SafeString("")
    found = registry.for_request(request, registry.Place(place))
    if not found:
        return SafeString("")
    return mark_safe(  # noqa: S308 (a template of ours, its values escaped by it)
        render_to_string("core/_notices.html", {"notices": found, "place": place})
    )
