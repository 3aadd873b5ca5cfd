"""What a tile says of its service's health: a registry the status app fills.

The portal knows nothing of probes or incidents. An app registers one provider from its
``AppConfig.ready()``; the provider answers, from memory or the cache (never the database:
tiles are drawn on every dashboard), a version and the state of each service it knows, by
slug. The cached catalogue is keyed by the version, so a tile changes as soon as the state
it shows does. A service the provider does not name shows no state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TileState:
    """A state as a tile draws it: words, a DSFR icon beside them (never colour alone) and
    the badge's tone (``success``, ``warning``, ``error``, ``info``, ``new``)."""

    label: str
    icon: str
    tone: str
    # Where to read more (the service's status page), or "".
    url: str = ""


Provider = Callable[[], tuple[str, dict[str, TileState]]]
_providers: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def unregister(provider: Provider) -> None:
    if provider in _providers:
        _providers.remove(provider)


def current() -> tuple[str, dict[str, TileState]]:
    """Every provider's states merged, and one version for them all; a failing provider
    is left out (the tiles then show no state, never an error)."""
    versions: list[str] = []
    states: dict[str, TileState] = {}
    for provider in _providers:
        try:
            version, found = provider()
        except Exception:
            logger.exception("Tile state provider %r failed; its states are left out.", provider)
            continue
        versions.append(version)
        states.update(found)
    return "/".join(versions), states
