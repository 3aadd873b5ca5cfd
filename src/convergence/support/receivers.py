"""Receivers of the support app: a contact, its hours or exceptions changed; a ticket's
attachment deleted (with its ticket, or alone)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from convergence.support import contacts
from convergence.support.models import (
    OpeningException,
    OpeningHours,
    SupportContact,
    TicketAttachment,
)


def forget_cached_contacts(**kwargs: Any) -> None:
    # Now, and again at commit: a reader between the two would have cached the old rows.
    contacts.changed()
    transaction.on_commit(contacts.changed)


def remove_attachment_file(instance: TicketAttachment, **kwargs: Any) -> None:
    # Once the deletion is committed: a rolled-back deletion keeps its row, so its file too.
    name, storage = instance.file.name, instance.file.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name))


def connect() -> None:
    post_delete.connect(
        remove_attachment_file, sender=TicketAttachment, dispatch_uid="support_attachment_deleted"
    )
    for model in (SupportContact, OpeningHours, OpeningException):
        uid = f"support_changed_{model.__name__}"
        post_save.connect(forget_cached_contacts, sender=model, dispatch_uid=uid)
        post_delete.connect(forget_cached_contacts, sender=model, dispatch_uid=f"{uid}_deleted")
