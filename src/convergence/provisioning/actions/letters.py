"""Activation letters: a batch for an establishment built by the task worker, or one person's
letter reprinted with a new code (the previous one dies)."""

from __future__ import annotations

import datetime
import io

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext

from convergence.accounts import mailing
from convergence.accounts.actions.activation import (
    ACTIVATABLE_STATES,
    ActivationError,
    is_pupil,
    issue_activation_code,
)
from convergence.accounts.models import Assignment, Role, User
from convergence.accounts.permissions import managed_establishments
from convergence.core import links
from convergence.core.models import Establishment
from convergence.provisioning import letters
from convergence.provisioning.models import LetterBatch


def request_letter_batch(
    *,
    acting_user: User,
    establishment: Establishment,
    audience: str,
    division: str = "",
) -> LetterBatch:
    """Record a batch of activation letters and have the task worker build it after commit.

    The caller has checked that ``acting_user`` manages ``establishment`` and ``audience``;
    the batch itself only ever prints accounts ``User.objects.managed_by(acting_user)``.
    """
    with transaction.atomic():
        batch = LetterBatch.objects.create(
            establishment=establishment,
            audience=audience,
            division=division.strip(),
            requested_by=acting_user,
        )
        transaction.on_commit(lambda: letters.generate_letter_batch.enqueue(batch.pk))
    return batch


def _letter_establishment(acting_user: User, user: User) -> Establishment | None:
    """Which establishment a single letter names: one the actor manages, preferably."""
    assignments = Assignment.objects.current().filter(user=user)
    if not assignments.exists():
        # A parent's establishment is their children's.
        assignments = Assignment.objects.current().filter(
            user__in=User.objects.children_of(user), role=Role.ELEVE
        )
    managed = assignments.filter(establishment__in=managed_establishments(acting_user))
    chosen = managed.first() or assignments.first()
    return chosen.establishment if chosen is not None else None


def reprint_activation_letter(
    *,
    acting_user: User,
    user: User,
    request: HttpRequest | None = None,
    now: datetime.datetime | None = None,
) -> bytes:
    """A new activation code for one person and their one-page letter (PDF bytes).

    The previous code dies. Works for invited and active accounts (an active account then
    chooses a new password at activation); suspended and archived ones raise
    ``ActivationError``. Audited as ``activation.letter_issued``; a pupil's guardians are
    told by e-mail after commit (référent delegation is always notified).
    """
    if user.state not in ACTIVATABLE_STATES:
        raise ActivationError(
            gettext("Ce compte est suspendu ou archivé : aucune lettre ne peut être produite.")
        )
    with transaction.atomic():
        code, expires_at = issue_activation_code(
            acting_user=acting_user, user=user, request=request, now=now
        )
        letter = letters.letter_for(
            user,
            code=code,
            expires_at=expires_at,
            establishment=_letter_establishment(acting_user, user),
            audience=letters.audience_of(user),
        )
        if is_pupil(user):
            context = {"actor": acting_user, "academie_host": links.portal_host(request)}
            transaction.on_commit(
                lambda: mailing.notify_guardians(
                    user, "provisioning/mail/activation_letter_reprinted", context
                )
            )
    buffer = io.BytesIO()
    letters.render_letters(
        [letter],
        buffer,
        host=links.portal_host(request),
        title=gettext("Lettre d'activation — %(login)s") % {"login": user.login},
    )
    return buffer.getvalue()
