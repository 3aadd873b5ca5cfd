"""The dashboard's widget registry: each app registers its widgets in ``AppConfig.ready()``.

A widget is a template and a function computing its context; a widget whose function fails
is left out of the page (one dependency down degrades one widget, not the dashboard).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Widget:
    slug: str
    template: str
    context: Callable[[HttpRequest], dict[str, Any] | None]
    order: int = 100


_WIDGETS: dict[str, Widget] = {}


def register(widget: Widget) -> None:
    _WIDGETS[widget.slug] = widget


def render_context(request: HttpRequest) -> list[dict[str, Any]]:
    """The widgets to show this user: template and context, in order."""
    shown = []
    for widget in sorted(_WIDGETS.values(), key=lambda w: (w.order, w.slug)):
        try:
            context = widget.context(request)
        except Exception:
            logger.exception("Widget %s failed; it is left out of the dashboard.", widget.slug)
            continue
        if context is not None:
            shown.append({"slug": widget.slug, "template": widget.template, "context": context})
    return shown
