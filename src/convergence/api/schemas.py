"""The API's documents (pydantic, through ninja): what a service sends and gets back.
Descriptions are French: they are what the OpenAPI document shows."""

from __future__ import annotations

from typing import Annotated

from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict, StringConstraints, WithJsonSchema

from convergence.api.audience import MAX_IDENTIFIER_LENGTH
from convergence.api.scopes import SERVICE_CATEGORIES
from convergence.core.notify import URL_LENGTH, is_local_path

MAX_RECIPIENTS = 1000
# The rules below, written in the OpenAPI document as patterns too (so that a client's
# generator knows them): no NUL character anywhere; a title with something besides spaces;
# a link that is a local path (core.notify.is_local_path).
NO_NUL = r"^[^\x00]*$"
NOT_BLANK = r"^[^\x00]*[^\x00\s][^\x00]*$"
LOCAL_PATH = r"^(/|/[^/\\\x00-\x1f\x7f][^\\\x00-\x1f\x7f]*)?$"
# core.notify's 200 characters, less the service's name (80 at most) and « : » that
# actions.signed_title puts first, with a margin.
TITLE_LENGTH = 110
# core.notify's 2,000 characters, less the line naming the service (actions.signed_body).
TEXT_LENGTH = 1800


def _plain(value: str) -> str:
    """Text the database can hold: UTF-8 (no lone surrogate) without NUL characters."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("Caractères invalides (UTF-8 attendu).") from None
    if "\x00" in value:
        raise ValueError("Le caractère nul est interdit.")
    return value


def _title(value: str) -> str:
    value = " ".join(_plain(value).split())
    if not value:
        raise ValueError("Le titre ne peut pas être vide.")
    return value


def _link(value: str) -> str:
    if value and not is_local_path(_plain(value)):
        raise ValueError(
            "Un chemin du portail est attendu, commençant par « / » (sans schéma ni hôte)."
        )
    return value


Identifier = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_IDENTIFIER_LENGTH, pattern=NO_NUL),
    AfterValidator(_plain),
]


class NotificationIn(Schema):
    """Une notification envoyée par un service aux personnes qu'il sert."""

    model_config = ConfigDict(extra="forbid")

    destinataires: list[Identifier] = Field(
        ...,
        min_length=1,
        max_length=MAX_RECIPIENTS,
        description=(
            "Identifiants des personnes : l'identifiant de connexion (par exemple « jdupont3 ») "
            "ou le « sub » OpenID Connect reçu par le service (des chiffres seulement). "
            "Au plus 1 000. Les personnes que le service ne sert pas sont ignorées."
        ),
    )
    categorie: Annotated[
        str,
        WithJsonSchema(
            {
                "type": "string",
                "enum": list(SERVICE_CATEGORIES),
                "description": (
                    "Catégorie de la notification ; le jeton doit porter la portée "
                    "« notifications:<catégorie> ». « securite » est réservée au portail."
                ),
            }
        ),
    ] = Field(..., max_length=40)
    titre: Annotated[str, AfterValidator(_title)] = Field(
        ...,
        min_length=1,
        max_length=TITLE_LENGTH,
        pattern=NOT_BLANK,
        description=(
            "Une ligne, au plus 110 caractères. Le portail la fait précéder du nom du "
            "service (« Arena : <titre> ») : une notification poussée ou l'objet d'un "
            "courriel montre toujours qui l'envoie."
        ),
    )
    texte: Annotated[str, AfterValidator(_plain)] = Field(
        "",
        max_length=TEXT_LENGTH,
        pattern=NO_NUL,
        description="Texte brut facultatif, au plus 1 800 caractères.",
    )
    lien: Annotated[str, AfterValidator(_link)] = Field(
        "",
        max_length=URL_LENGTH,
        pattern=LOCAL_PATH,
        description=(
            "Facultatif : un chemin du portail (« /assistance/ »), jamais une adresse "
            "d'un autre site."
        ),
    )


class NotificationOut(Schema):
    """Réponse à un envoi accepté (et, pour la même clé d'idempotence, à chaque répétition)."""

    id: str = Field(..., description="Identifiant de l'envoi.")
    notifies: int = Field(..., description="Nombre de notifications créées.")
    ignores: list[str] = Field(
        ...,
        description=(
            "Destinataires ignorés, tels qu'envoyés : inconnus ou non servis par ce service "
            "(sans distinction)."
        ),
    )


class FieldError(Schema):
    champ: str = Field(..., description="Champ en cause.")
    message: str = Field(..., description="Ce qui ne va pas, en français.")


class Problem(Schema):
    """Erreur au format « problem details » (RFC 9457)."""

    type: str = Field(..., description="Toujours « about:blank ».")
    title: str = Field(..., description="Résumé en français.")
    status: int = Field(..., description="Statut HTTP.")
    code: str = Field(..., description="Code stable de l'erreur, à tester par les programmes.")
    detail: str = Field(..., description="Explication en français.")
    erreurs: list[FieldError] | None = Field(None, description="Champs en cause, le cas échéant.")
