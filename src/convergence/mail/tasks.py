"""Background work of the mail app: the message telling a person an app password was made."""

from __future__ import annotations

from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django_tasks import task

from convergence.accounts.mailing import contact_address
from convergence.accounts.models import User
from convergence.outbox import mail


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
