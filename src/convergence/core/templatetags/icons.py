"""``{% icon_stylesheet name %}``: the stylesheet an icon chosen at run time needs, if any.

The pages load the DSFR icons the project names (``core/dsfr-utility.css``, see
``core.icons``); a service's icon is chosen by a DSI among all the DSFR's. Put the tag beside
such an icon: it renders nothing when the subset has it, else a link to the DSFR's whole icon
stylesheet, so that the icon shows whatever it is. Every such icon gets its link (the browser
fetches the stylesheet once): cached fragments are combined differently from page to page, so
one fragment cannot count on another's.
"""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString

from convergence.core import icons

register = template.Library()


@register.simple_tag
def icon_stylesheet(name: str) -> SafeString:
    stylesheet = icons.stylesheet_for(name or "")
    if stylesheet is None:
        return SafeString("")
    return format_html('<link rel="stylesheet" href="{}">', static(stylesheet))
