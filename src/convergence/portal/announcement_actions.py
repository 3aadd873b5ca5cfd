"""Every write to announcements by a person: write, change, publish, withdraw, acknowledge.

Each action is keyword-only, takes ``acting_user``, runs in one transaction and leaves one
audit entry. The author's reach is checked again here (:func:`ensure_may_address`), whatever
the form offered. Publishing never waits for the audience to be written: the fan-out is
handed to the worker once committed (``tasks.fan_out_announcement``), and the scheduled job
sends it anyway within a minute if the queue cannot be reached
(``announcement_delivery.publish_due``).
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from convergence.accounts.models import Role, User
from convergence.accounts.permissions import announcement_establishments, is_rectorat
from convergence.audit.actions import record_event
from convergence.core.models import Department, Establishment
from convergence.portal import announcement_text, events, tasks
from convergence.portal.announcement_files import CheckedFile
from convergence.portal.announcements import announcements_changed, receipts_changed
from convergence.portal.models import (
    EDITABLE_STATES,
    Announcement,
    AnnouncementAttachment,
    AnnouncementRecipient,
    AnnouncementState,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Draft:
    """What the author chose: text, audience, dates (validated by the form)."""

    title: str
    body: str
    establishment: Establishment | None = None
    departments: Sequence[Department] = ()
    everyone: bool = False
    roles: Sequence[str] = ()
    divisions: Sequence[str] = ()
    publish_at: datetime.datetime | None = None
    expires_at: datetime.datetime | None = None
    requires_ack: bool = False
    attachments: Sequence[CheckedFile] = field(default=())


class AnnouncementRefused(PermissionDenied):
    """The author may not address this audience, or the announcement may not change now."""


def ensure_may_address(user: User, draft: Draft) -> None:
    """Raise :class:`AnnouncementRefused` unless ``user`` may address ``draft``'s audience:
    an establishment of theirs (the direction's, any for the rectorat); departments and the
    whole académie for the rectorat only; classes only within one establishment."""
    if draft.establishment is not None:
        if draft.everyone or draft.departments:
            raise AnnouncementRefused("An establishment's announcement has no other scope.")
        if not announcement_establishments(user).filter(pk=draft.establishment.pk).exists():
            raise AnnouncementRefused("Outside the author's establishments.")
    else:
        if draft.divisions:
            raise AnnouncementRefused("Classes belong to one establishment.")
        if not (draft.everyone or draft.departments):
            raise AnnouncementRefused("No audience.")
        if not is_rectorat(user):
            raise AnnouncementRefused("Departments and the académie are the rectorat's.")
    unknown = set(draft.roles) - set(Role.values)
    if unknown:
        raise AnnouncementRefused(f"Unknown roles {sorted(unknown)}.")


def _apply(announcement: Announcement, draft: Draft) -> None:
    announcement.title = draft.title
    announcement.body_source = draft.body
    announcement.body_html = announcement_text.render(draft.body)
    announcement.establishment = draft.establishment
    announcement.everyone = draft.everyone
    announcement.roles = [] if draft.everyone else sorted(set(draft.roles))
    announcement.divisions = sorted(set(draft.divisions)) if draft.establishment else []
    announcement.publish_at = draft.publish_at
    announcement.expires_at = draft.expires_at
    announcement.requires_ack = draft.requires_ack


def _attach(announcement: Announcement, files: Iterable[CheckedFile]) -> None:
    for checked in files:
        attachment = AnnouncementAttachment(
            announcement=announcement,
            name=checked.name,
            size=checked.size,
            content_type=checked.content_type,
        )
        # A random name on disk: the original one is only shown and sent back.
        suffix = checked.name.rsplit(".", 1)[-1].lower() if "." in checked.name else "bin"
        attachment.file.save(f"{uuid.uuid4().hex}.{suffix}", checked.upload, save=False)
        attachment.save()


def _audience_data(announcement: Announcement) -> dict[str, object]:
    return {
        "announcement": announcement.pk,
        "establishment": announcement.establishment_id,
        "everyone": announcement.everyone,
        "departments": sorted(department.pk for department in announcement.departments.all()),
        "roles": list(announcement.roles),
        "divisions": list(announcement.divisions),
    }


def create_announcement(
    *, acting_user: User, draft: Draft, request: HttpRequest | None = None
) -> Announcement:
    """Save a new draft with its files (one transaction, audited as
    ``announcement.created``); nothing is sent before :func:`publish_announcement`."""
    ensure_may_address(acting_user, draft)
    with transaction.atomic():
        announcement = Announcement(author=acting_user)
        _apply(announcement, draft)
        announcement.save()
        announcement.departments.set(draft.departments if draft.establishment is None else [])
        _attach(announcement, draft.attachments)
        record_event(
            event_type=events.ANNOUNCEMENT_CREATED,
            request=request,
            actor=acting_user,
            data=_audience_data(announcement),
        )
    return announcement


def update_announcement(
    *,
    acting_user: User,
    announcement: Announcement,
    draft: Draft,
    remove_attachments: Sequence[int] = (),
    request: HttpRequest | None = None,
) -> Announcement:
    """Change a draft or scheduled announcement (refused once published or withdrawn); one
    transaction, audited as ``announcement.updated``."""
    ensure_may_address(acting_user, draft)
    with transaction.atomic():
        locked = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if locked.state not in EDITABLE_STATES:
            raise AnnouncementRefused("Published announcements no longer change.")
        _apply(locked, draft)
        locked.updated_at = timezone.now()
        locked.save()
        locked.departments.set(draft.departments if draft.establishment is None else [])
        for attachment in AnnouncementAttachment.objects.filter(
            announcement=locked, pk__in=list(remove_attachments)
        ):
            attachment.file.delete(save=False)
            attachment.delete()
        _attach(locked, draft.attachments)
        record_event(
            event_type=events.ANNOUNCEMENT_UPDATED,
            request=request,
            actor=acting_user,
            data=_audience_data(locked),
        )
    return locked


def _enqueue_fan_out(announcement_pk: int) -> None:
    try:
        tasks.fan_out_announcement.enqueue(announcement_pk)
    except Exception:  # the queue is down: the scheduled job sends it within a minute
        logger.warning("Announcement %s left to the scheduled job.", announcement_pk, exc_info=True)


def publish_announcement(
    *, acting_user: User, announcement: Announcement, request: HttpRequest | None = None
) -> Announcement:
    """Publish a draft now, or schedule it for its ``publish_at`` if that is still to come
    (a scheduled one whose time came is published now). One transaction, audited as
    ``announcement.published``; once committed, the fan-out goes to the worker, so the author
    never waits for the audience to be written."""
    now = timezone.now()
    with transaction.atomic():
        locked = Announcement.objects.select_for_update().get(pk=announcement.pk)
        if locked.state not in EDITABLE_STATES:
            raise AnnouncementRefused("Only drafts and scheduled announcements are published.")
        if locked.expires_at is not None and locked.expires_at <= now:
            raise AnnouncementRefused("The announcement has already expired.")
        if locked.publish_at is not None and locked.publish_at > now:
            locked.state = AnnouncementState.SCHEDULED
        else:
            locked.state = AnnouncementState.PUBLISHED
            locked.publish_at = now
        locked.updated_at = now
        locked.save(update_fields=["state", "publish_at", "updated_at"])
        record_event(
            event_type=events.ANNOUNCEMENT_PUBLISHED,
            request=request,
            actor=acting_user,
            data={
                "announcement": locked.pk,
                "state": locked.state,
                "publish_at": locked.publish_at.isoformat() if locked.publish_at else None,
            },
        )
        if locked.state == AnnouncementState.PUBLISHED:
            pk = locked.pk
            transaction.on_commit(lambda: _enqueue_fan_out(pk))
    return locked


def withdraw_announcement(
    *, acting_user: User, announcement: Announcement, request: HttpRequest | None = None
) -> bool:
    """Take a scheduled or published announcement back: no recipient sees it any more (its
    notifications stay, leading to a page that says so). Idempotent: False when it was
    not out. One transaction, audited as ``announcement.withdrawn``."""
    now = timezone.now()
    with transaction.atomic():
        changed = Announcement.objects.filter(
            pk=announcement.pk,
            state__in=[AnnouncementState.SCHEDULED, AnnouncementState.PUBLISHED],
        ).update(state=AnnouncementState.WITHDRAWN, withdrawn_at=now, updated_at=now)
        if not changed:
            return False
        record_event(
            event_type=events.ANNOUNCEMENT_WITHDRAWN,
            request=request,
            actor=acting_user,
            data={"announcement": announcement.pk},
        )
        announcements_changed()
    announcement.refresh_from_db()
    return True


class NotARecipient(Exception):
    """The person did not receive this announcement, or it is no longer out."""


def acknowledge_announcement(
    *, acting_user: User, announcement: Announcement, request: HttpRequest | None = None
) -> bool:
    """Record that ``acting_user`` read ``announcement`` (« J'ai lu »). Idempotent: True the
    first time, False afterwards. Raises :class:`NotARecipient` for anyone who did not
    receive it or once it is no longer out. One transaction, audited the first time."""
    if not Announcement.objects.current().filter(pk=announcement.pk).exists():
        raise NotARecipient
    receipts = AnnouncementRecipient.objects.filter(announcement=announcement, person=acting_user)
    with transaction.atomic():
        changed = receipts.filter(acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now()
        )
        if not changed:
            if not receipts.exists():
                raise NotARecipient
            return False
        record_event(
            event_type=events.ANNOUNCEMENT_ACKNOWLEDGED,
            request=request,
            actor=acting_user,
            data={"announcement": announcement.pk},
        )
        receipts_changed(acting_user.pk)
    return True
