"""Background work of the mail app: the message telling a person an app password was made,
and the rules switched off after a suspension of sending."""

from __future__ import annotations

import logging

from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django_tasks import task

from convergence.accounts.models import User
from convergence.core.notify import BODY_LENGTH, Category, notify, notify_template

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
    notify_template(
        [user],
        "mail/mail/app_password_created",
        context,
        category=Category.SECURITE,
        url=reverse("mail:devices"),
    )


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


WARNING_CHUNK = 2000


@task()
def notify_phishing_warning(*, warning_pk: int) -> int:
    """A security notification of the DSI's phishing warning to every person with an
    academic mailbox, 2,000 at a time; idempotent (one key per warning), so a re-run adds
    nothing. The number of notifications created."""
    from convergence.mail.models import PhishingWarning

    warning = PhishingWarning.objects.filter(pk=warning_pk).first()
    if warning is None:
        return 0
    people = User.objects.with_academic_mailbox().order_by("pk").values_list("pk", flat=True)
    url = reverse("help:guide", args=["reconnaitre-un-hameconnage"])
    created = 0
    last = 0
    while True:
        chunk = list(people.filter(pk__gt=last)[:WARNING_CHUNK])
        if not chunk:
            return created
        last = chunk[-1]
        created += notify(
            User.objects.filter(pk__in=chunk),
            category=Category.SECURITE,
            title=warning.title,
            body=warning.text[:BODY_LENGTH],
            url=url,
            key=f"phishing-warning-{warning.pk}",
        )


@task()
def purge_old_mail_records() -> dict[str, int]:
    """Daily: ``mail.retention.purge_old_mail_records``."""
    from convergence.mail import retention

    return retention.purge_old_mail_records()
