"""``POST /api/v1/notifications/``: a service notifies the people it serves."""

from __future__ import annotations

import hashlib
import json

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.params.functions import Header

from convergence.api import actions, errors
from convergence.api.auth import Caller
from convergence.api.models import IDEMPOTENCY_KEY_LENGTH
from convergence.api.schemas import NotificationIn, NotificationOut, Problem
from convergence.api.scopes import SERVICE_CATEGORIES, scope_of
from convergence.core.notify import LOCKED

router = Router(tags=["Notifications"])

ERRORS = dict.fromkeys((400, 401, 403, 409, 413, 415, 422, 429, 503), Problem)


def _check_category(caller: Caller, category: str) -> None:
    if category in LOCKED:
        raise errors.ApiProblem(
            403,
            "categorie_interdite",
            _("Catégorie réservée au portail"),
            _("Un service ne peut jamais envoyer de notification de sécurité."),
        )
    if category not in SERVICE_CATEGORIES:
        raise errors.ApiProblem(
            422,
            "categorie_inconnue",
            _("Catégorie inconnue"),
            _("Catégories possibles : %(categories)s.")
            % {"categories": ", ".join(SERVICE_CATEGORIES)},
            errors=[{"champ": "categorie", "message": _("Catégorie inconnue.")}],
        )
    if scope_of(category) not in caller.scopes:
        raise errors.insufficient_scope(scope_of(category))


def fingerprint(payload: NotificationIn) -> str:
    """What makes two requests the same: their content as understood, not their bytes."""
    canonical = json.dumps(payload.model_dump(), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@router.post(
    "",
    response={202: NotificationOut, **ERRORS},
    summary="Notifier des personnes",
    description=(
        "Crée une notification pour chaque destinataire que le service sert (qui voit sa "
        "tuile dans le catalogue), selon ses préférences (centre de notifications, courriel). "
        "Les autres sont renvoyés dans « ignores ». L'en-tête « Idempotency-Key » est "
        "obligatoire : la même clé du même service pendant 24 heures renvoie la première "
        "réponse sans notifier à nouveau ; avec un autre contenu, 409."
    ),
    operation_id="notifier",
)
def post_notification(
    request: HttpRequest,
    payload: NotificationIn,
    idempotency_key: str = Header(
        ...,
        alias="Idempotency-Key",
        min_length=1,
        max_length=IDEMPOTENCY_KEY_LENGTH,
        # Visible ASCII only: a key is stored, and PostgreSQL refuses a NUL in text.
        pattern=r"^[!-~]+$",
        description=(
            "Clé choisie par le service (1 à 100 caractères ASCII visibles, sans espace : un "
            "UUID par exemple), unique par envoi."
        ),
    ),
) -> Status[dict[str, object]]:
    caller: Caller = request.auth  # type: ignore[attr-defined]
    _check_category(caller, payload.categorie)
    outcome = actions.post_notification(
        caller=caller,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint(payload),
        recipients=payload.destinataires,
        category=payload.categorie,
        title=payload.titre,
        text=payload.texte,
        url=payload.lien,
        request=request,
    )
    return Status(outcome.status, outcome.body)
