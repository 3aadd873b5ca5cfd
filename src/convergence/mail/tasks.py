"""Background work of the mail app: the message telling a person an app password was made,
and the rules switched off after a suspension of sending."""

from __future__ import annotations

import logging

from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django_tasks import task

from convergence.accounts.mailing import contact_address
from convergence.accounts.models import User
from convergence.outbox import mail

logger = logging.getLogger(__name__)


@task()
def send_app_password_created(*, user_pk: int, label: str, when: str, base_url: str) -> None:
    """Tell the person a mail client can now read their mail: if it was not them, the link
    revokes it. Through the worker: a slow mail server never holds the page."""
    user = User.objects.filter(pk=user_pk).first()
    if user is None:
        return
    context = {
        "user": user,
        "label": label,
        "when": parse_datetime(when),
        "devices_url": f"{base_url}{reverse('mail:devices')}",
    }
    mail.send([contact_address(user)], "mail/mail/app_password_created", context)


@task()
def stop_outgoing_rules(*, user_pks: list[int], actor_pk: int | None = None) -> None:
    """After a suspension of sending: switch off the vacation replies and forwarding rules of
    the people it covers (one ManageSieve session each; a person the mail server cannot be
    asked about is logged, and their mail is still held by the relay's suspension)."""
    from convergence.accounts.permissions import has_academic_mailbox
    from convergence.mail import rules_actions
    from convergence.mail.connections import MailUnavailable

    actor = User.objects.filter(pk=actor_pk).first() if actor_pk else None
    for user in User.objects.filter(pk__in=user_pks).order_by("pk").iterator():
        if not has_academic_mailbox(user):
            continue
        try:
            rules_actions.stop_outgoing(user=user, actor=actor)
        except (MailUnavailable, rules_actions.RulesError):
            logger.warning("Règles de %s non désactivées après la suspension.", user.pk)


@task()
def purge_old_mail_records() -> dict[str, int]:
    """Daily: ``mail.retention.purge_old_mail_records``."""
    from convergence.mail import retention

    return retention.purge_old_mail_records()
