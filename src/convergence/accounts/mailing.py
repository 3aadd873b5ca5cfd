"""Whom to tell about an account: a person's contact address, the DSI, a pupil's legal
guardians. What is said to people goes through ``core.notify`` (their preferences, the
centre, the e-mail); only codes and links meant for one address go through the outbox
(``outbox/mail.py``) directly."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from convergence.accounts.models import AccountState, Assignment, Role, User
from convergence.core.notify import Category, notify_template
from convergence.outbox import mail


def contact_address(user: User) -> str:
    """Where to write to someone about their account: confirmed recovery address first."""
    if user.recovery_email and user.recovery_email_confirmed_at:
        return user.recovery_email
    return user.email


def dsi_people(*, excluding: Iterable[User] = ()) -> list[User]:
    """The active DSI accounts this school year, but ``excluding``."""
    return list(
        User.objects.filter(
            state=AccountState.ACTIVE,
            pk__in=Assignment.objects.current().filter(role=Role.DSI).values("user"),
        )
        .exclude(pk__in=[person.pk for person in excluding])
        .order_by("pk")
    )


def notify_guardians(pupil: User, template: str, context: dict[str, Any]) -> int:
    """Tell a pupil's legal guardians about an act on the account (a security
    notification: ``template`` names ``<template>_subject.txt`` and ``_body.txt``)."""
    return notify_template(
        User.objects.guardians_of(pupil),
        template,
        {"pupil": pupil, **context},
        category=Category.SECURITE,
    )


def alert_security_team(
    template: str, context: dict[str, Any], *, url: str = "", key: str = ""
) -> bool:
    """Tell the DSI (a security notification each, which cannot be switched off) and the
    académie's security mailboxes (``SECURITY_ALERT_EMAILS``: team addresses, not people, so
    an e-mail of their own); whether anyone was told."""
    told = notify_template(
        dsi_people(), template, context, category=Category.SECURITE, url=url, key=key
    )
    mailboxes = sorted(set(settings.SECURITY_ALERT_EMAILS))
    sent = bool(mailboxes) and mail.send(mailboxes, template, context)
    return bool(told) or sent
