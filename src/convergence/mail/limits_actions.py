"""Writes of the sending limits: the DSI suspends and lifts sending (one account or a whole
establishment), and a limit reached is audited and the DSI alerted.

Suspensions take effect at once: the webmail and the mail relay's policy service ask
``mail.limits`` before every message. The counter itself lives in ``mail.limits``
(``reserve_recipients``), beside the reads it needs.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from convergence.accounts.mailing import alert_security_team
from convergence.accounts.models import Assignment, User
from convergence.audit.actions import record_event
from convergence.core import links, ratelimit
from convergence.core.models import Establishment
from convergence.mail import events, tasks
from convergence.mail.models import SendingSuspension

logger = logging.getLogger(__name__)

# The DSI hears of one person's limit at most this often.
ALERT_WINDOW_SECONDS = 3600
CHANNELS = {
    "webmail": _("messagerie web"),
    "smtp": _("logiciel de messagerie (mot de passe d'application)"),
}


def record_limit_reached(
    *,
    user: User,
    kind: str,
    attempted: int,
    sent_this_hour: int,
    sent_today: int,
    per_hour: int,
    per_day: int,
    channel: str,
    request: HttpRequest | None = None,
) -> bool:
    """Audit a refusal past a limit and have the DSI e-mailed, once per person and hour (a
    bot retrying does not flood the trail nor the DSI's mailbox). True when recorded. When the
    cache that remembers "already told" is down, it is recorded again: better twice than
    never."""
    try:
        first = ratelimit.first_time(
            ratelimit.key("mail-sending-limit", user.pk), window=ALERT_WINDOW_SECONDS
        )
    except ratelimit.LimiterUnavailable:
        first = True
    if not first:
        return False
    data = {
        "limit": kind,
        "attempted": attempted,
        "sent_this_hour": sent_this_hour,
        "sent_last_24_hours": sent_today,
        "per_hour": per_hour,
        "per_day": per_day,
        "channel": channel,
    }
    record_event(event_type=events.SENDING_LIMIT_REACHED, request=request, subject=user, data=data)
    establishments = list(
        Assignment.objects.current()
        .filter(user=user)
        .values_list("establishment__name", flat=True)
        .distinct()[:5]
    )
    deliver_sending_limit_alert.enqueue(
        login=user.login,
        name=user.get_full_name(),
        establishments=establishments,
        when=timezone.now().isoformat(),
        limit=kind,
        attempted=attempted,
        sent_this_hour=sent_this_hour,
        sent_last_24_hours=sent_today,
        per_hour=per_hour,
        per_day=per_day,
        channel=channel,
    )
    return True


@task()
def deliver_sending_limit_alert(
    *,
    login: str,
    name: str,
    establishments: list[str],
    when: str,
    limit: str,
    attempted: int,
    sent_this_hour: int,
    sent_last_24_hours: int,
    per_hour: int,
    per_day: int,
    channel: str,
) -> bool:
    """Tell the DSI and the security mailboxes that a person reached a sending limit (task
    worker), with the page where sending is suspended; False when nobody could be told."""
    context = {
        "login": login,
        "name": name,
        "establishments": establishments,
        "when": datetime.datetime.fromisoformat(when),
        "per_hour": per_hour,
        "per_day": per_day,
        "hourly": limit == "hour",
        "attempted": attempted,
        "sent_this_hour": sent_this_hour,
        "sent_last_24_hours": sent_last_24_hours,
        "channel": str(CHANNELS.get(channel, channel)),
        "page_url": links.absolute_url(reverse("mail_limits:index")),
    }
    return alert_security_team(
        "mail/limits/mail/limit_alert", context, url=reverse("mail_limits:index")
    )


# --- Suspensions ------------------------------------------------------------------------------


def suspend_sending(
    *,
    acting_user: User,
    reason: str,
    user: User | None = None,
    establishment: Establishment | None = None,
    request: HttpRequest | None = None,
) -> SendingSuspension:
    """Stop sending for one account or a whole establishment, effective at the next message.

    Exactly one target. Idempotent: a suspension already in force for the same target is
    returned unchanged. One transaction, audited.
    """
    if (user is None) == (establishment is None):
        raise ValueError("suspend one account or one establishment")
    reason = " ".join(reason.split())[:300]
    with transaction.atomic():
        existing = (
            SendingSuspension.objects.in_force()
            .select_for_update()
            .filter(user=user, establishment=establishment)
            .first()
        )
        if existing is not None:
            return existing
        suspension = SendingSuspension.objects.create(
            user=user, establishment=establishment, reason=reason, created_by=acting_user
        )
        record_event(
            event_type=events.SENDING_SUSPENDED,
            request=request,
            actor=acting_user,
            subject=user,
            data={
                "suspension": suspension.pk,
                "establishment": establishment.uai if establishment is not None else "",
                "reason": reason,
            },
        )
        # The relay now refuses their submissions; what the mail server itself sends for
        # them (vacation replies, forwarding rules) is switched off in the background.
        covered = (
            [user.pk]
            if user is not None
            else list(
                Assignment.objects.current()
                .filter(establishment=establishment)
                .values_list("user", flat=True)
                .distinct()
            )
        )
        tasks.stop_outgoing_rules.enqueue(user_pks=covered, actor_pk=acting_user.pk)
    return suspension


def lift_suspension(
    *, acting_user: User, suspension: SendingSuspension, request: HttpRequest | None = None
) -> bool:
    """Let the account or establishment send again (no-op if already lifted); audited.
    True when it was in force."""
    with transaction.atomic():
        lifted = (
            SendingSuspension.objects.in_force()
            .filter(pk=suspension.pk)
            .update(lifted_at=timezone.now(), lifted_by=acting_user)
        )
        if lifted:
            record_event(
                event_type=events.SENDING_RESUMED,
                request=request,
                actor=acting_user,
                subject=suspension.user,
                data={
                    "suspension": suspension.pk,
                    "establishment": (
                        suspension.establishment.uai if suspension.establishment else ""
                    ),
                },
            )
    return bool(lifted)
