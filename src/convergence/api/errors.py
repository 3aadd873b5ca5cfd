"""Every error of the API as RFC 9457 problem details, in French, machine-readable.

``{"type": "about:blank", "title": …, "status": …, "code": …, "detail": …, "erreurs":
[{"champ": …, "message": …}]}`` with ``Content-Type: application/problem+json``: ``code`` is
stable (programs test it), ``title`` and ``detail`` are for people. Raising :class:`ApiProblem`
anywhere in the API answers it; ninja's own errors (validation, authentication, unparsable
body, 404, 405) and outages are turned into the same shape here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from convergence.core.views import OUTAGE_RETRY_AFTER_SECONDS, dependency_outage

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"


@dataclass(eq=False)
class ApiProblem(Exception):
    """An answer of the API other than success: status, stable code, French texts."""

    status: int
    code: str
    title: str
    detail: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}"


def problem_response(problem: ApiProblem) -> HttpResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": problem.title,
        "status": problem.status,
        "code": problem.code,
        "detail": problem.detail or problem.title,
    }
    if problem.errors:
        body["erreurs"] = problem.errors
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=problem.status,
        content_type=f"{CONTENT_TYPE}; charset=utf-8",
    )
    for name, value in problem.headers.items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


# --- the common problems --------------------------------------------------------------------


def unauthorized(*, presented: bool) -> ApiProblem:
    """401: no token, or one that is not (or no longer) accepted (RFC 6750 §3)."""
    challenge = 'Bearer realm="convergence"'
    if presented:
        challenge += ', error="invalid_token"'
    return ApiProblem(
        401,
        "jeton_invalide" if presented else "authentification_requise",
        _("Authentification requise"),
        _(
            "Le jeton présenté est inconnu, expiré ou n'a pas été délivré à un service par "
            "identifiants client."
        )
        if presented
        else _(
            "Présentez un jeton d'accès obtenu par identifiants client : "
            "« Authorization: Bearer <jeton> »."
        ),
        headers={"WWW-Authenticate": challenge},
    )


def insufficient_scope(scope: str) -> ApiProblem:
    """403: the token lacks the scope the request needs."""
    return ApiProblem(
        403,
        "portee_insuffisante",
        _("Portée insuffisante"),
        _("Ce jeton n'a pas la portée « %(scope)s » qu'exige cette catégorie.") % {"scope": scope},
        headers={
            "WWW-Authenticate": (
                f'Bearer realm="convergence", error="insufficient_scope", scope="{scope}"'
            )
        },
    )


def unavailable(retry_after: int = OUTAGE_RETRY_AFTER_SECONDS) -> ApiProblem:
    return ApiProblem(
        503,
        "service_indisponible",
        _("Service momentanément indisponible"),
        _("Le portail ne peut pas traiter la demande pour l'instant : réessayez plus tard."),
        headers={"Retry-After": str(retry_after)},
    )


def not_found() -> ApiProblem:
    return ApiProblem(404, "introuvable", _("Adresse inconnue"), _("Aucune ressource ici."))


# --- ninja's validation errors, in French ------------------------------------------------------

_MESSAGES: dict[str, Promise] = {
    "missing": gettext_lazy("Ce champ est obligatoire."),
    "extra_forbidden": gettext_lazy("Champ inconnu."),
    "string_type": gettext_lazy("Une chaîne de caractères est attendue."),
    "list_type": gettext_lazy("Une liste est attendue."),
    "model_type": gettext_lazy("Un objet JSON est attendu."),
    "model_attributes_type": gettext_lazy("Un objet JSON est attendu."),
    "dict_type": gettext_lazy("Un objet JSON est attendu."),
    "string_too_short": gettext_lazy("Ce champ ne peut pas être vide."),
    "too_short": gettext_lazy("La liste ne peut pas être vide."),
}


# What a field's pattern means (schemas.py), field by field.
_PATTERNS: dict[str, Promise] = {
    "titre": gettext_lazy("Le titre ne peut pas être vide ni contenir de caractère nul."),
    "lien": gettext_lazy(
        "Un chemin du portail est attendu, commençant par « / » (sans schéma ni hôte)."
    ),
}


def _message(error: dict[str, Any], field: str) -> str:
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        return str(_PATTERNS.get(field, gettext_lazy("Le caractère nul est interdit.")))
    if kind == "string_too_long":
        return _("Au plus %(count)s caractères.") % {"count": context.get("max_length")}
    if kind == "too_long":
        return _("Au plus %(count)s éléments.") % {"count": context.get("max_length")}
    if kind == "value_error":
        return str(context.get("error", "")) or _("Valeur invalide.")
    if kind in _MESSAGES:
        return str(_MESSAGES[kind])
    return _("Valeur invalide.")


def _field(location: tuple[Any, ...] | list[Any]) -> str:
    """``["body", "payload", "destinataires", 3]`` → ``destinataires[3]``."""
    parts = list(location)
    if parts and parts[0] in {"body", "header", "query", "path"}:
        parts = parts[1:]
    if parts and parts[0] == "payload":
        parts = parts[1:]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "corps"


def validation_problem(exc: ValidationError) -> ApiProblem:
    """422 for the body's fields; 400 when the ``Idempotency-Key`` header is at fault."""
    errors = [dict(error) for error in exc.errors]
    if any(list(error.get("loc", []))[:1] == ["header"] for error in errors):
        return ApiProblem(
            400,
            "cle_idempotence_invalide",
            _("En-tête Idempotency-Key manquant ou invalide"),
            _(
                "Chaque envoi porte un en-tête « Idempotency-Key » de 1 à 100 caractères "
                "ASCII visibles, sans espace."
            ),
            errors=[
                {"champ": "Idempotency-Key", "message": _message(e, "Idempotency-Key")}
                for e in errors
            ],
        )
    return ApiProblem(
        422,
        "donnees_invalides",
        _("Données invalides"),
        _("Corrigez les champs indiqués dans « erreurs »."),
        errors=[
            {"champ": name, "message": _message(e, name)}
            for e in errors
            for name in [_field(e.get("loc", []))]
        ],
    )


# --- wiring -----------------------------------------------------------------------------------


def _on_problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
    return problem_response(exc)


def _on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return problem_response(validation_problem(exc))


def _on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    presented = request.META.get("HTTP_AUTHORIZATION", "").strip() != ""
    return problem_response(unauthorized(presented=presented))


def _on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # The body parser's failures come wrapped (ninja: "Cannot parse request body").
    if isinstance(exc.__cause__, ApiProblem):
        return problem_response(exc.__cause__)
    if exc.status_code == 400:
        return problem_response(
            ApiProblem(
                400,
                "json_invalide",
                _("Corps illisible"),
                _("Le corps de la requête doit être un document JSON valide, encodé en UTF-8."),
            )
        )
    return problem_response(ApiProblem(exc.status_code, "erreur_http", _("Requête refusée")))


def _on_too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(too_large())


def too_large() -> ApiProblem:
    return ApiProblem(413, "corps_trop_grand", _("Corps de requête trop volumineux"))


def _on_exception(request: HttpRequest, exc: Exception) -> HttpResponse:
    if dependency_outage(exc):
        logger.warning("API call refused: a dependency is down (%s)", type(exc).__name__)
        return problem_response(unavailable())
    logger.exception("API call failed")
    return problem_response(ApiProblem(500, "erreur_interne", _("Erreur interne du portail")))


def install(api: NinjaAPI) -> None:
    """Make every error of ``api`` a problem document."""
    # ninja types a handler's exception as "an instance or a class"; it passes instances.
    handlers: list[tuple[type[Exception], Callable[[HttpRequest, Any], HttpResponse]]] = [
        (Exception, _on_exception),
        (RequestDataTooBig, _on_too_big),
        (HttpError, _on_http_error),
        (AuthenticationError, _on_authentication),
        (ValidationError, _on_validation),
        (ApiProblem, _on_problem),
    ]
    for exception, handler in handlers:
        api.add_exception_handler(exception, handler)


# --- what ninja answers outside its handlers (405), and the transport limits -------------------

_STATUS_PROBLEMS: dict[int, tuple[str, Promise]] = {
    404: ("introuvable", gettext_lazy("Adresse inconnue")),
    405: ("methode_non_autorisee", gettext_lazy("Méthode non autorisée")),
}


def guarded(
    view: Callable[..., HttpResponse], *, max_body: Callable[[], int]
) -> Callable[..., Any]:
    """``view`` with a body larger than ``max_body()`` refused (413) before anything is read,
    and ninja's plain answers (405 with ``Allow``) turned into problems."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_body():
            return problem_response(too_large())
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return problem_response(not_found())
        content_type = response.get("Content-Type", "")
        if response.status_code in _STATUS_PROBLEMS and not content_type.startswith(CONTENT_TYPE):
            code, title = _STATUS_PROBLEMS[response.status_code]
            headers = {"Allow": response["Allow"]} if response.has_header("Allow") else {}
            return problem_response(
                ApiProblem(response.status_code, code, str(title), headers=headers)
            )
        return response

    # Bearer tokens, never cookies: no cross-site request can borrow a service's identity.
    wrapper.csrf_exempt = True  # type: ignore[attr-defined]
    return wrapper
