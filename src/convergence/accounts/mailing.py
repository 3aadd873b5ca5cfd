"""Whom to write to about an account: a person's contact address, the DSI, a pupil's legal
guardians. The messages themselves go through the outbox (``outbox/mail.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from convergence.accounts.models import AccountState, Assignment, Role, User
from convergence.outbox import mail


def contact_address(user: User) -> str:
    """Where to write to someone about their account: confirmed recovery address first."""
    if user.recovery_email and user.recovery_email_confirmed_at:
        return user.recovery_email
    return user.email


def dsi_addresses(*, excluding: Iterable[User] = ()) -> list[str]:
    """Contact addresses of the active DSI accounts this school year, but ``excluding``."""
    dsi = User.objects.filter(
        state=AccountState.ACTIVE,
        pk__in=Assignment.objects.current().filter(role=Role.DSI).values("user"),
    ).exclude(pk__in=[person.pk for person in excluding])
    return sorted({address for address in map(contact_address, dsi) if address})


def guardian_addresses(pupil: User) -> list[str]:
    parents = User.objects.guardians_of(pupil)
    return [address for address in (contact_address(parent) for parent in parents) if address]


def notify_guardians(pupil: User, template: str, context: dict[str, Any]) -> bool:
    """Tell a pupil's legal guardians (their contact e-mail) about an act on the account;
    ``template`` as for ``outbox.mail.send``."""
    return mail.send(guardian_addresses(pupil), template, {"pupil": pupil, **context})
