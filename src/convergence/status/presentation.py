"""How each state is said and drawn, the same on tiles, banners, the status page and in the
feed: words first, a DSFR icon beside them, a tone for the badge (never colour alone)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from convergence.status.models import State


@dataclass(frozen=True)
class Look:
    label: str | Promise
    icon: str
    tone: str


LOOKS: dict[str, Look] = {
    State.OPERATIONAL: Look(_("Opérationnel"), "fr-icon-checkbox-circle-line", "success"),
    State.DEGRADED: Look(_("Perturbé"), "fr-icon-warning-line", "warning"),
    State.DOWN: Look(_("Indisponible"), "fr-icon-close-circle-line", "error"),
    State.MAINTENANCE: Look(_("En maintenance"), "fr-icon-settings-5-line", "info"),
    State.UNKNOWN: Look(_("État inconnu"), "fr-icon-question-line", "new"),
}


def look(state: str) -> Look:
    return LOOKS.get(state, LOOKS[State.UNKNOWN])


# Control characters XML 1.0 cannot carry (a vertical tab pasted from a word processor would
# make the Atom feed unwritable): dropped from every text the DSI writes, and from the feed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def printable(text: str) -> str:
    return _CONTROL.sub("", text)


def duration(delta: dt.timedelta | None) -> str:
    """How long something lasted, to the minute: « 2 j 3 h », « 2 h 05 », « 45 min », « moins
    d'une minute »; empty when unknown."""
    if delta is None:
        return ""
    minutes = max(0, int(delta.total_seconds()) // 60)
    if minutes < 1:
        return gettext("moins d'une minute")
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return gettext("%(days)s j %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return gettext("%(hours)s h %(minutes)02d") % {"hours": hours, "minutes": minutes}
    return gettext("%(minutes)s min") % {"minutes": minutes}
