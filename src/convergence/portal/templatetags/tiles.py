"""``{{ tile_states|state_of:service.slug }}``: the state a tile shows, if any."""

from __future__ import annotations

from django import template

from convergence.portal.service_states import TileState

register = template.Library()


@register.filter
def state_of(states: dict[str, TileState] | None, slug: str) -> TileState | None:
    return (states or {}).get(slug)
