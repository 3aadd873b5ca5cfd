"""Writes on the guides written in the administration: one person writes a draft and submits
it, another — with the permission ``help.publish_guide`` — reviews and publishes it. Each step
is one transaction and one audit row; a publication or a withdrawal renews the guides' version
(``core.fragments``) and rebuilds the search index once committed."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from convergence.audit.actions import record_event
from convergence.core import fragments
from convergence.help import events, guides
from convergence.help.models import Guide, GuideStatus


class GuideWorkflowError(Exception):
    """A step the guide's state or the person's rights do not allow; the message is French."""


def _collection_changed() -> None:
    from convergence.help import search

    fragments.bump(guides.GUIDES_VERSION)
    guides.forget()
    search.rebuild()


def _audit(event: Any, guide: Guide, acting_user: Any, request: HttpRequest | None) -> None:
    record_event(
        event_type=event,
        request=request,
        actor=acting_user,
        data={"guide": guide.slug, "title": guide.title},
    )


def submit_guide_for_review(
    *, guide: Guide, acting_user: Any, request: HttpRequest | None = None
) -> bool:
    """Draft → in review; returns False (and writes nothing) when it already is."""
    if guide.status == GuideStatus.REVIEW:
        return False
    if guide.status != GuideStatus.DRAFT:
        raise GuideWorkflowError(_("Seul un brouillon peut être soumis à relecture."))
    with transaction.atomic():
        guide.status = GuideStatus.REVIEW
        guide.save(update_fields=["status", "updated_at"])
        _audit(events.GUIDE_SUBMITTED, guide, acting_user, request)
    return True


def publish_guide(*, guide: Guide, acting_user: Any, request: HttpRequest | None = None) -> None:
    """In review → published by a reviewer who may publish and is not the author (four eyes,
    also a database constraint); the guide then joins the collection and the search."""
    if not acting_user.has_perm("help.publish_guide"):
        raise GuideWorkflowError(_("Vous n'avez pas le droit de publier un guide."))
    if guide.status != GuideStatus.REVIEW:
        raise GuideWorkflowError(_("Un guide doit être soumis à relecture avant d'être publié."))
    if guide.author_id == acting_user.pk:
        raise GuideWorkflowError(_("Un guide est publié par une autre personne que son auteur."))
    with transaction.atomic():
        guide.status = GuideStatus.PUBLISHED
        guide.reviewer = acting_user
        guide.last_reviewed = timezone.localdate()
        guide.save(update_fields=["status", "reviewer", "last_reviewed", "updated_at"])
        _audit(events.GUIDE_PUBLISHED, guide, acting_user, request)
        transaction.on_commit(_collection_changed)


def withdraw_guide(*, guide: Guide, acting_user: Any, request: HttpRequest | None = None) -> None:
    """Published → draft (by someone who may publish): the file of the same slug, if any, is
    shown again."""
    if not acting_user.has_perm("help.publish_guide"):
        raise GuideWorkflowError(_("Vous n'avez pas le droit de retirer un guide."))
    if guide.status != GuideStatus.PUBLISHED:
        raise GuideWorkflowError(_("Ce guide n'est pas publié."))
    with transaction.atomic():
        guide.status = GuideStatus.DRAFT
        guide.save(update_fields=["status", "updated_at"])
        _audit(events.GUIDE_WITHDRAWN, guide, acting_user, request)
        transaction.on_commit(_collection_changed)
