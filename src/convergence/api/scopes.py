"""The API's OAuth scopes: ``notifications:<category>`` for every category but security.

A service may never send a security notification: those come from the portal alone, and a
person cannot switch them off (``core.notify.LOCKED``), so a service able to send them could
reach everyone's mailbox whatever their preferences.
"""

from __future__ import annotations

from convergence.core.notify import LOCKED, Category

PREFIX = "notifications:"
# The categories a service may use, in the order of core.notify.Category.
SERVICE_CATEGORIES: tuple[str, ...] = tuple(
    value for value in Category.values if value not in LOCKED
)
SCOPES: frozenset[str] = frozenset(PREFIX + category for category in SERVICE_CATEGORIES)


def scope_of(category: str) -> str:
    """The scope that lets a service post notifications of ``category``."""
    return PREFIX + category
