"""The API's one NinjaAPI instance, ``/api/v1/``: its routers (``routers/``), its bearer
authentication (``auth.py``), its JSON-only parser and its OpenAPI document.

The document is public at ``/api/v1/openapi.json``. ninja's interactive page (``/docs``)
is switched off: it loads Swagger UI from a CDN, which the portal's CSP forbids and which
the académie's servers may not reach.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser

from convergence.api import errors
from convergence.api.auth import ServiceBearer
from convergence.api.routers import ROUTERS
from convergence.api.scopes import SCOPES

JSON = "application/json"
# What each answer means, in the OpenAPI document.
RESPONSES = {
    "202": "Acceptée : les personnes servies sont notifiées.",
    "400": "Requête incorrecte : corps illisible ou en-tête Idempotency-Key absent.",
    "401": "Jeton absent, inconnu, expiré, ou délivré à une personne.",
    "403": "Portée insuffisante, ou catégorie réservée au portail (sécurité).",
    "409": "Clé d'idempotence déjà utilisée pour une autre requête.",
    "413": "Corps de requête trop volumineux.",
    "415": "Corps qui n'est pas en application/json.",
    "422": "Données invalides : les champs en cause sont dans « erreurs ».",
    "429": (
        "Trop de requêtes, de destinataires ou de jetons refusés : attendre Retry-After secondes."
    ),
    "503": "Portail momentanément indisponible : réessayer après Retry-After secondes.",
}

DESCRIPTION = (
    "API REST du portail pour les services du catalogue. Un service s'authentifie par "
    "identifiants client OAuth 2.0 sur /oidc/token/ (grant_type=client_credentials, portées "
    "notifications:<catégorie>) et présente le jeton obtenu : « Authorization: Bearer "
    "<jeton> ». Toute erreur est un document « problem details » (RFC 9457, "
    "application/problem+json) en français, avec un « code » stable. Portées existantes : "
    + ", ".join(sorted(SCOPES))
    + "."
)


class JsonOnlyParser(Parser):
    """ninja's parser, refusing any body that is not declared ``application/json`` (415)."""

    def parse_body(self, request: HttpRequest) -> Any:
        if request.content_type != JSON:
            raise errors.ApiProblem(
                415,
                "type_de_contenu_non_pris_en_charge",
                _("Type de contenu non pris en charge"),
                _("Envoyez le corps en JSON avec « Content-Type: application/json »."),
            )
        return super().parse_body(request)


class ConvergenceApi(NinjaAPI):
    """ninja's API whose OpenAPI document says what the API really answers: errors as
    ``application/problem+json``, the bearer scheme described in French."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    response["description"] = RESPONSES.get(status, response["description"])
                    content = response.get("content", {})
                    if int(status) >= 400 and JSON in content:
                        content[errors.CONTENT_TYPE] = content.pop(JSON)
        for scheme in schema.get("components", {}).get("securitySchemes", {}).values():
            scheme["description"] = ServiceBearer.openapi_description
        return schema


api = ConvergenceApi(
    title="API des services de Convergence",
    version="1",
    description=DESCRIPTION,
    docs_url=None,
    urls_namespace="api",
    auth=ServiceBearer(),
    parser=JsonOnlyParser(),
)
errors.install(api)
for prefix, router in ROUTERS:
    api.add_router(prefix, router)
