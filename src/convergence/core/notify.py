"""The one way any part of the portal tells people something: ``notify(...)``.

Every app may call it (mail, status, support, accounts…), so it lives in core and knows no
app: the ``notifications`` app, which sits above all of them, registers the sink that does
the work (stores one notification per person for the notification centre, then e-mails it
as each person's preferences say) from its ``AppConfig.ready()``. No sink registered is a
programming error: ``notify`` raises :class:`NoSink` rather than drop a message silently.

The categories are declared here, with their French labels, because callers name them;
``sécurité`` cannot be switched off by anyone (:data:`LOCKED`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from django.conf import settings
from django.db import models
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

TITLE_LENGTH = 200
BODY_LENGTH = 2000
URL_LENGTH = 500
KEY_LENGTH = 100


class Category(models.TextChoices):
    MESSAGERIE = "messagerie", _("Messagerie")
    SECURITE = "securite", _("Sécurité")
    ANNONCES = "annonces", _("Annonces")
    INCIDENTS = "incidents", _("Incidents et maintenances")
    ASSISTANCE = "assistance", _("Assistance")
    SERVICES = "services", _("Services")


# Categories nobody can switch off, on any channel.
LOCKED = frozenset({Category.SECURITE.value})


class NoSink(RuntimeError):
    """``notify`` was called while no app had registered a sink (the notifications app is
    not installed or not ready): a programming error, never a message dropped in silence."""


class Sink(Protocol):
    def __call__(
        self,
        recipients: list[Any],
        *,
        category: str,
        title: str,
        body: str,
        url: str,
        key: str,
        urgent: bool,
    ) -> int: ...


_sink: Sink | None = None


def register(sink: Sink) -> None:
    """Make ``sink`` the receiver of every notification (the notifications app's ready())."""
    global _sink
    _sink = sink


def unregister() -> None:
    """Remove the sink (tests of the no-sink case put it back afterwards)."""
    global _sink
    _sink = None


def registered_sink() -> Sink | None:
    return _sink


def is_local_path(url: str) -> bool:
    """Whether ``url`` is a path of this portal: starts with one ``/``, no scheme, no host,
    no backslash or control character (which browsers may read as another host)."""
    if not url.startswith("/") or url.startswith("//"):
        return False
    return not any(char == "\\" or ord(char) < 0x20 or ord(char) == 0x7F for char in url)


def notify(
    recipients: Iterable[Any],
    *,
    category: str,
    title: str,
    body: str = "",
    url: str = "",
    key: str = "",
    urgent: bool = False,
) -> int:
    """Tell ``recipients`` (users) something of ``category``: ``title`` (one line), an
    optional ``body`` (plain text) and ``url`` (a local path, where the notification
    leads). ``key`` makes it idempotent: a second call with the same key for the same person
    adds nothing. ``urgent`` sends its e-mail and push at once, past the digest and quiet
    hours (as security ones go), while still honouring each person's choice for the
    category. The number of notifications created.

    Raises ``ValueError`` for an unknown category, an empty title, fields too long or a url
    that is not a local path; :class:`NoSink` when no sink is registered.
    """
    if category not in Category.values:
        raise ValueError(f"Unknown notification category {category!r}.")
    title = " ".join(title.split())
    if not title:
        raise ValueError("A notification needs a title.")
    if len(title) > TITLE_LENGTH or len(body) > BODY_LENGTH or len(key) > KEY_LENGTH:
        raise ValueError("A notification's title, body or key is too long.")
    if url and (len(url) > URL_LENGTH or not is_local_path(url)):
        raise ValueError("A notification's url must be a local path of the portal.")
    sink = _sink
    if sink is None:
        raise NoSink("notify() called but no notification sink is registered.")
    people = {person.pk: person for person in recipients if getattr(person, "pk", None)}
    if not people:
        return 0
    return sink(
        list(people.values()),
        category=category,
        title=title,
        body=body,
        url=url,
        key=key,
        urgent=urgent,
    )


def notify_template(
    recipients: Iterable[Any],
    template: str,
    context: dict[str, Any],
    *,
    category: str,
    url: str = "",
    key: str = "",
    urgent: bool = False,
) -> int:
    """``notify`` with the title rendered from ``<template>_subject.txt`` and the body from
    ``<template>_body.txt`` (plain text; ``academie_name`` in the context), for the messages
    that were e-mails of their own before: the notification e-mail adds the greeting, the
    links to the centre and preferences, and the signature."""
    full = {"academie_name": settings.ACADEMIE_NAME, **context}
    title = " ".join(render_to_string(f"{template}_subject.txt", full).split())
    body = render_to_string(f"{template}_body.txt", full).strip()
    return notify(
        recipients,
        category=category,
        title=title[:TITLE_LENGTH],
        body=body[:BODY_LENGTH],
        url=url,
        key=key,
        urgent=urgent,
    )
