"""What the rest of the portal shows of service status: the state on each tile
(``portal.service_states``) and the notices of the sign-in page and the dashboard
(``core.notices``). Both read the snapshot only (``status.snapshot``): no query, so the
sign-in page keeps its notice when the database is down.

Targeting: the dashboard names only the services the person's catalogue holds (a pupil is
not told about Arena). The sign-in page does not know who is coming: it names the services
that are down, degraded or in maintenance now, which the public status page shows anyway,
and upcoming maintenance windows are announced on the dashboard only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from convergence.core.notices import Notice, Place
from convergence.portal.catalogue import Catalogue
from convergence.portal.service_states import TileState
from convergence.status import snapshot
from convergence.status.models import State
from convergence.status.presentation import look

# Maintenance windows announced on the dashboard this long before they start.
ANNOUNCE_AHEAD = dt.timedelta(days=7)


# The tiles' states of the last snapshot seen by this process: every dashboard asks, a new
# snapshot comes every round.
_last_tiles: dict[str, Any] = {"made": None, "tiles": ("", {})}


def tile_states() -> tuple[str, dict[str, TileState]]:
    current = snapshot.current()
    if not current:
        return "", {}
    made = (current.get("generated_at"), current.get("built_at"))
    if _last_tiles["made"] == made:
        return _last_tiles["tiles"]  # type: ignore[no-any-return]
    shown: dict[str, TileState] = {}
    for service in current.get("services", []):
        slug, state = service["slug"], service["state"]
        if not service.get("monitored") and state == State.OPERATIONAL:
            continue  # not measured: nothing to claim
        appearance = look(state)
        shown[slug] = TileState(
            label=str(appearance.label),
            icon=appearance.icon,
            tone=appearance.tone,
            url=reverse("status:service", args=[slug]),
        )
    tiles = (str(current.get("states_version", "")), shown)
    _last_tiles.update(made=made, tiles=tiles)
    return tiles


def notices_version() -> str:
    """What the sign-in notices depend on: the services' states."""
    current = snapshot.current()
    return str(current.get("states_version", "")) if current else ""


def _visible_ids(request: HttpRequest) -> set[int] | None:
    """The services of the person's catalogue (the portal's, computed once per request and
    cached); None when not signed in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return set(Catalogue.for_request(request).services)


def _names(services: list[dict[str, Any]]) -> str:
    return ", ".join(service["name"] for service in services)


def notices(request: HttpRequest, place: Place) -> list[Notice]:
    current = snapshot.current()
    if not current:
        return []
    services = current.get("services", [])
    if place is Place.DASHBOARD:
        visible = _visible_ids(request)
        if visible is None:
            return []
        services = [service for service in services if service.get("id") in visible]
    else:
        visible = None
    link = reverse("status:page")
    found: list[Notice] = []
    for state, level in (
        (State.DOWN, "alert"),
        (State.DEGRADED, "warning"),
        (State.MAINTENANCE, "info"),
    ):
        concerned = [service for service in services if service["state"] == state]
        if not concerned:
            continue
        title = {
            State.DOWN: ngettext(
                "Service indisponible : %(names)s.",
                "Services indisponibles : %(names)s.",
                len(concerned),
            ),
            State.DEGRADED: ngettext(
                "Service perturbé : %(names)s.", "Services perturbés : %(names)s.", len(concerned)
            ),
            State.MAINTENANCE: ngettext(
                "Service en maintenance : %(names)s.",
                "Services en maintenance : %(names)s.",
                len(concerned),
            ),
        }[state] % {"names": _names(concerned)}
        found.append(
            Notice(
                level=level,
                title=title,
                text=_("Ce n'est pas votre connexion : les équipes techniques sont informées."),
                link_url=link,
                link_text=_("Voir l'état des services"),
            )
        )
    if place is Place.DASHBOARD and visible is not None:
        found.extend(_upcoming(current, visible))
    return found


def _upcoming(current: dict[str, Any], visible: set[int]) -> list[Notice]:
    now = timezone.now()
    names = {service["slug"]: service["name"] for service in current.get("services", [])}
    ids = {service["slug"]: service.get("id") for service in current.get("services", [])}
    found = []
    for window in current.get("maintenances", []):
        # By the clock, not the snapshot's flag: a window that has begun is told as « en
        # maintenance » by the state, one that is over is no news.
        starts = dt.datetime.fromisoformat(window["starts_at"])
        if starts <= now or starts - now > ANNOUNCE_AHEAD:
            continue
        concerned = [slug for slug in window["services"] if ids.get(slug) in visible]
        if not concerned:
            continue
        ends = dt.datetime.fromisoformat(window["ends_at"])
        found.append(
            Notice(
                level="info",
                title=_("Maintenance prévue : %(title)s") % {"title": window["title"]},
                text=_("%(services)s, du %(start)s au %(end)s.")
                % {
                    "services": ", ".join(names.get(slug, slug) for slug in concerned),
                    "start": formats.date_format(timezone.localtime(starts), "l j F à H\\hi"),
                    "end": formats.date_format(timezone.localtime(ends), "l j F à H\\hi"),
                },
                link_url=reverse("status:page"),
                link_text=_("Voir l'état des services"),
            )
        )
    return found
