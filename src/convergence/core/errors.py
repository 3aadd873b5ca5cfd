"""The registry of error codes shown to users (``CONV-…``), read by error pages and help.

Each code is declared once here or by another app through :func:`register`; pages link to
``/aide/erreurs/<code>/`` where the same entry explains what happened and what to do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from convergence.core import search


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    title: str | Promise
    explanation: str | Promise
    what_to_do: str | Promise


_REGISTRY: dict[str, ErrorCode] = {}


def register(entry: ErrorCode) -> ErrorCode:
    """Declare an error code; declaring one twice is a programming error."""
    if entry.code in _REGISTRY and _REGISTRY[entry.code] != entry:
        raise ValueError(f"Error code {entry.code} is already declared.")
    _REGISTRY[entry.code] = entry
    return entry


def get(code: str) -> ErrorCode | None:
    return _REGISTRY.get(code.upper())


# The session key under which the last code shown to a signed-in person is kept, so that a
# support request opened afterwards carries it (``support``) without the person copying it;
# it is forgotten after ``LAST_SHOWN_SECONDS``, so an old error does not ride on a later
# request.
_LAST_SHOWN_KEY = "last_error_code"
LAST_SHOWN_SECONDS = 2 * 3600


def remember(request: HttpRequest, code: str) -> None:
    """Note that ``code`` was shown to the person making ``request``.

    Only for a signed-in person, whose session exists anyway: an anonymous visitor's error
    (a bot's 404s) must not create a session row. Someone who is not signed in carries the
    code in the link the error page gives them (``?code=``), read by :func:`last_shown`.
    """
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if session is None or user is None or not user.is_authenticated:
        return
    session[_LAST_SHOWN_KEY] = [code, int(time.time())]


def last_shown(request: HttpRequest) -> str | None:
    """The last registered code shown to this person: from the link they followed
    (``?code=``, checked against the registry) or, once signed in, from their session
    within the last ``LAST_SHOWN_SECONDS``."""
    asked = request.GET.get("code", "")
    if asked and (entry := get(asked[:40])) is not None:
        return entry.code
    session = getattr(request, "session", None)
    remembered = session.get(_LAST_SHOWN_KEY) if session is not None else None
    match remembered:
        case [str(code), int(shown_at)] if time.time() - shown_at <= LAST_SHOWN_SECONDS:
            return code if get(code) else None
    return None


def all_codes() -> list[ErrorCode]:
    return sorted(_REGISTRY.values(), key=lambda entry: entry.code)


def find(request: HttpRequest, asked: list[str]) -> list[search.Result]:
    """The search's "Aide" group (``core.search``): the error codes whose code, title or
    explanation match. The help app's guides join this group when it lands."""
    from django.urls import reverse

    results = []
    for entry in all_codes():
        words = search.terms(f"{entry.code} {entry.title} {entry.explanation}")
        if search.matches(asked, words):
            results.append(
                search.Result(
                    title=f"{entry.title} ({entry.code})",
                    url=reverse("error_code", args=[entry.code]),
                    description=str(entry.what_to_do),
                )
            )
    return results


BAD_REQUEST = register(
    ErrorCode(
        "CONV-400",
        400,
        _("Requête incorrecte"),
        _("Le portail n'a pas compris la demande envoyée par votre navigateur."),
        _("Rechargez la page. Si le problème continue, videz le cache de votre navigateur."),
    )
)
CSRF_FAILED = register(
    ErrorCode(
        "CONV-403-CSRF",
        403,
        _("Formulaire expiré"),
        _(
            "Par sécurité, un formulaire n'est valable que pendant votre session. "
            "Celui-ci a expiré ou a été ouvert dans un autre onglet."
        ),
        _("Revenez à la page précédente, rechargez-la puis envoyez de nouveau le formulaire."),
    )
)
FORBIDDEN = register(
    ErrorCode(
        "CONV-403",
        403,
        _("Accès refusé"),
        _("Votre compte ne donne pas accès à cette page."),
        _(
            "Si vous pensez devoir y accéder, contactez le référent numérique de votre "
            "établissement."
        ),
    )
)
NOT_FOUND = register(
    ErrorCode(
        "CONV-404",
        404,
        _("Page introuvable"),
        _("La page demandée n'existe pas ou a été déplacée."),
        _("Vérifiez l'adresse saisie ou repartez de l'accueil du portail."),
    )
)
THROTTLED = register(
    ErrorCode(
        "CONV-429",
        429,
        _("Trop de tentatives"),
        _(
            "Plusieurs tentatives de connexion ont échoué. Pour protéger votre compte, "
            "le portail impose un délai avant le prochain essai. Votre compte n'est pas bloqué."
        ),
        _(
            "Patientez le temps indiqué puis réessayez. Si vous avez oublié votre mot de passe, "
            "utilisez « Mot de passe oublié »."
        ),
    )
)
SERVER_ERROR = register(
    ErrorCode(
        "CONV-500",
        500,
        _("Erreur du portail"),
        _("Une erreur inattendue s'est produite. L'équipe technique en est informée."),
        _("Réessayez dans quelques minutes."),
    )
)
UNAVAILABLE = register(
    ErrorCode(
        "CONV-503",
        503,
        _("Service momentanément indisponible"),
        _(
            "Le portail est en maintenance, surchargé, ou l'un des services dont il a besoin "
            "ne répond pas."
        ),
        _("Réessayez dans quelques minutes ; l'état des services indique la durée prévue."),
    )
)
