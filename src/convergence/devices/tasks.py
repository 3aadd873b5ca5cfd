"""Background work of devices: the new-device alert, the daily deletion of expired portal
sessions."""

from __future__ import annotations

import contextlib
from importlib import import_module

from django.conf import settings
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django_tasks import task

from convergence.accounts.models import User
from convergence.core.notify import Category, notify_template


@task()
def send_new_device_alert(
    *, user_pk: int, device: str, place: str, when: str, base_url: str
) -> None:
    """Tell the person (a security notification: the centre and an e-mail now, whatever
    their preferences) that their account was just signed in from a browser it did not know
    (``devices.actions.alert_new_device``), with links to the official host."""
    user = User.objects.filter(pk=user_pk).first()
    if user is None:
        return
    context = {
        "user": user,
        "device": device,
        "place": place,
        "when": parse_datetime(when),
        "devices_url": f"{base_url}{reverse('devices:list')}",
        "password_url": f"{base_url}{reverse('account_change_password')}",
    }
    notify_template(
        [user],
        "devices/mail/new_device",
        context,
        category=Category.SECURITE,
        url=reverse("devices:list"),
    )


@task()
def clear_expired_sessions() -> None:
    """Delete expired portal sessions (Django's ``clearsessions``)."""
    engine = import_module(settings.SESSION_ENGINE)
    # Engines that expire on their own (cache, signed cookies) have nothing to clear.
    with contextlib.suppress(NotImplementedError):
        engine.SessionStore.clear_expired()
