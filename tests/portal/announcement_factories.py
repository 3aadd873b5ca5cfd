"""Keyword-only helpers of the announcement tests: a draft written and published as the
demo's head of school or DSI would."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from convergence.core.models import Department, Establishment
from convergence.portal import announcement_actions, announcement_delivery
from convergence.portal.models import Announcement

COLLEGE = "0250013D"  # Collège Victor Hugo, Besançon (Doubs)
NODIER = "0390012B"  # Lycée Charles Nodier, Dole (Jura)


def establishment(uai: str = COLLEGE) -> Establishment:
    return Establishment.objects.get(uai=uai)


def draft(
    *,
    title: str = "Réunion parents-professeurs",
    body: str = "Rendez-vous **jeudi** à 18 h.",
    uai: str | None = COLLEGE,
    departments: Sequence[str] = (),
    everyone: bool = False,
    roles: Sequence[str] = (),
    divisions: Sequence[str] = (),
    publish_at: datetime.datetime | None = None,
    expires_at: datetime.datetime | None = None,
    requires_ack: bool = False,
    attachments: Sequence[Any] = (),
) -> announcement_actions.Draft:
    return announcement_actions.Draft(
        title=title,
        body=body,
        establishment=establishment(uai) if uai else None,
        departments=list(Department.objects.filter(code__in=list(departments))),
        everyone=everyone,
        roles=list(roles),
        divisions=list(divisions),
        publish_at=publish_at,
        expires_at=expires_at,
        requires_ack=requires_ack,
        attachments=list(attachments),
    )


def written(author: Any, **fields: Any) -> Announcement:
    """A draft saved by ``author``."""
    return announcement_actions.create_announcement(acting_user=author, draft=draft(**fields))


def sent(author: Any, **fields: Any) -> Announcement:
    """Written, published now and fanned out at once (as the worker would)."""
    announcement = written(author, **fields)
    announcement_actions.publish_announcement(acting_user=author, announcement=announcement)
    announcement_delivery.fan_out_announcement(announcement_pk=announcement.pk)
    announcement.refresh_from_db()
    return announcement
