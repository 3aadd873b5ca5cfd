"""The API's routers, each mounted under its prefix by ``main.py``: a new resource adds its
module here and one line below."""

from __future__ import annotations

from ninja import Router

from convergence.api.routers import notifications

ROUTERS: list[tuple[str, Router]] = [
    ("/notifications/", notifications.router),
]
