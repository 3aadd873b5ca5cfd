"""Sending announcements to their audience (the fan-out) and publishing scheduled ones:
the writes the background task and the scheduled job make.

The fan-out of one announcement is claimed by one conditional UPDATE (``fanout_started_at``),
so two workers never both write it; the claim is refreshed after each batch and given up for
good once ``fanned_out_at`` is set. A claim left by a worker that died is taken over after
``STALE_CLAIM``. Recipients are inserted 1,000 at a time with ``ignore_conflicts`` and the
notifications carry the key ``announcement-<pk>``, so a run done twice adds nothing.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.core.notify import TITLE_LENGTH, Category, notify
from convergence.portal import events
from convergence.portal.announcements import announcements_changed, audience_of
from convergence.portal.models import Announcement, AnnouncementRecipient, AnnouncementState

logger = logging.getLogger(__name__)

BATCH = 1000
STALE_CLAIM = datetime.timedelta(minutes=10)


def notification_key(announcement_pk: int) -> str:
    return f"announcement-{announcement_pk}"


def _claimable(now: datetime.datetime) -> Q:
    return Q(fanout_started_at__isnull=True) | Q(fanout_started_at__lt=now - STALE_CLAIM)


def claim_fan_out(announcement_pk: int, *, now: datetime.datetime) -> bool:
    """Take the fan-out of a published, not yet sent announcement; True for exactly one of
    several racing callers (one UPDATE whose WHERE says "unclaimed or stale")."""
    claimed = Announcement.objects.filter(
        _claimable(now),
        pk=announcement_pk,
        state=AnnouncementState.PUBLISHED,
        fanned_out_at__isnull=True,
        publish_at__lte=now,
    ).update(fanout_started_at=now)
    return claimed == 1


def _title(announcement: Announcement) -> str:
    title = _("Annonce : %(title)s") % {"title": announcement.title}
    return title if len(title) <= TITLE_LENGTH else title[: TITLE_LENGTH - 1] + "…"


def write_recipients(announcement: Announcement) -> int:
    """Insert the recipients and notify them, batch after batch (each batch its own
    transaction), refreshing the claim; the number of people in the audience. Stops early
    when the announcement is withdrawn meanwhile. Safe to run twice."""
    person_ids = list(audience_of(announcement).order_by("pk").values_list("pk", flat=True))
    url = reverse("portal:announcement", args=[announcement.pk])
    key = notification_key(announcement.pk)
    title = _title(announcement)
    for start in range(0, len(person_ids), BATCH):
        batch = person_ids[start : start + BATCH]
        with transaction.atomic():
            still_out = Announcement.objects.filter(
                pk=announcement.pk, state=AnnouncementState.PUBLISHED
            ).update(fanout_started_at=timezone.now(), recipients_count=start + len(batch))
            if not still_out:
                return start
            AnnouncementRecipient.objects.bulk_create(
                [
                    AnnouncementRecipient(announcement_id=announcement.pk, person_id=pk)
                    for pk in batch
                ],
                ignore_conflicts=True,
            )
            notify(
                User.objects.filter(pk__in=batch).only("pk"),
                category=Category.ANNONCES,
                title=title,
                url=url,
                key=key,
            )
    return len(person_ids)


def fan_out_announcement(*, announcement_pk: int, now: datetime.datetime | None = None) -> int:
    """Send a published announcement to its audience if this caller claims it: recipients
    written, notifications created through ``notify`` (each person's preferences decide the
    rest), ``recipients_count`` and ``fanned_out_at`` set, ``announcement.sent`` audited, the
    boards' version replaced. The number of recipients; 0 when someone else has it or it was
    sent already."""
    moment = now or timezone.now()
    if not claim_fan_out(announcement_pk, now=moment):
        return 0
    announcement = Announcement.objects.get(pk=announcement_pk)
    write_recipients(announcement)
    with transaction.atomic():
        total = AnnouncementRecipient.objects.filter(announcement_id=announcement_pk).count()
        done = Announcement.objects.filter(
            pk=announcement_pk, state=AnnouncementState.PUBLISHED, fanned_out_at__isnull=True
        ).update(fanned_out_at=timezone.now(), recipients_count=total)
        if done:
            record_event(
                event_type=events.ANNOUNCEMENT_SENT,
                data={"announcement": announcement_pk, "recipients": total},
            )
        announcements_changed()
    return total if done else 0


def publish_due(*, now: datetime.datetime | None = None) -> int:
    """Publish the scheduled announcements whose time came (each by one conditional UPDATE:
    two workers never both do it) and send every published one not sent yet and not
    claimed by a live worker; the number sent."""
    moment = now or timezone.now()
    due = Announcement.objects.filter(state=AnnouncementState.SCHEDULED, publish_at__lte=moment)
    for pk in list(due.values_list("pk", flat=True)):
        Announcement.objects.filter(pk=pk, state=AnnouncementState.SCHEDULED).update(
            state=AnnouncementState.PUBLISHED, updated_at=moment
        )
    waiting = Announcement.objects.filter(
        _claimable(moment),
        state=AnnouncementState.PUBLISHED,
        fanned_out_at__isnull=True,
        publish_at__lte=moment,
    ).order_by("publish_at", "pk")
    sent = 0
    for pk in list(waiting.values_list("pk", flat=True)):
        try:
            if fan_out_announcement(announcement_pk=pk, now=moment):
                sent += 1
        except Exception:
            # One announcement that cannot be sent does not hold back the others; its claim
            # goes stale and the next run tries it again.
            logger.exception("Announcement %s could not be sent.", pk)
    return sent
