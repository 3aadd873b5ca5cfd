"""Bad requests get a French, machine-readable problem document (RFC 9457), never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from tests.api.conftest import ENDPOINT, payload, post


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["title"] and body["detail"]
    return body


def _fields(body: dict[str, Any]) -> dict[str, str]:
    return {error["champ"]: error["message"] for error in body.get("erreurs", [])}


def test_missing_fields_are_named_in_french(arena_token: str) -> None:
    body = _problem(post(arena_token, {"categorie": "annonces"}), 422, "donnees_invalides")

    assert _fields(body) == {
        "destinataires": "Ce champ est obligatoire.",
        "titre": "Ce champ est obligatoire.",
    }


def test_wrong_types_are_refused(arena_token: str) -> None:
    body = _problem(
        post(arena_token, {"destinataires": "lea", "categorie": "annonces", "titre": 3}),
        422,
        "donnees_invalides",
    )

    assert _fields(body)["destinataires"] == "Une liste est attendue."
    assert _fields(body)["titre"] == "Une chaîne de caractères est attendue."


def test_more_than_a_thousand_recipients_are_refused(teacher: Any, arena_token: str) -> None:
    many = [f"personne{number}" for number in range(1001)]

    body = _problem(post(arena_token, payload(*many)), 422, "donnees_invalides")

    assert _fields(body)["destinataires"] == "Au plus 1000 éléments."
    assert not teacher.notifications.exists()


def test_empty_title_and_unknown_field_are_refused(arena_token: str) -> None:
    body = _problem(
        post(arena_token, payload("lea", titre="   ", couleur="rouge")), 422, "donnees_invalides"
    )

    assert set(_fields(body)) == {"titre", "couleur"}
    assert _fields(body)["couleur"] == "Champ inconnu."


def test_link_to_another_site_is_refused(arena_token: str) -> None:
    body = _problem(
        post(arena_token, payload("lea", lien="https://arena.exemple.fr/")),
        422,
        "donnees_invalides",
    )

    assert "chemin du portail" in _fields(body)["lien"]


def test_nul_character_is_refused(arena_token: str) -> None:
    body = _problem(post(arena_token, payload("lea", texte="a\x00b")), 422, "donnees_invalides")

    assert "texte" in _fields(body)


def test_unknown_category(arena_token: str) -> None:
    body = _problem(
        post(arena_token, payload("lea", categorie="ragots")), 422, "categorie_inconnue"
    )

    assert "annonces" in body["detail"]


def test_body_that_is_not_json_is_400(arena_token: str) -> None:
    _problem(post(arena_token, b"{destinataires: [lea]"), 400, "json_invalide")


def test_json_that_is_not_an_object_is_422(arena_token: str) -> None:
    _problem(post(arena_token, json.dumps(["lea"])), 422, "donnees_invalides")


def test_other_content_type_is_415(arena_token: str) -> None:
    response = post(
        arena_token, "destinataires=lea", content_type="application/x-www-form-urlencoded"
    )

    _problem(response, 415, "type_de_contenu_non_pris_en_charge")


def test_missing_idempotency_key_is_400(arena_token: str) -> None:
    body = _problem(post(arena_token, payload("lea"), key=""), 400, "cle_idempotence_invalide")

    assert _fields(body) == {"Idempotency-Key": "Ce champ est obligatoire."}


def test_idempotency_key_too_long_is_400(arena_token: str) -> None:
    _problem(post(arena_token, payload("lea"), key="k" * 101), 400, "cle_idempotence_invalide")


@pytest.mark.parametrize("key", ["a\x00b", "clé", "avec espace", "\x0f"])
def test_idempotency_key_outside_visible_ascii_is_400(arena_token: str, key: str) -> None:
    """A NUL reached PostgreSQL (which refuses it in text) and answered 500: schemathesis
    found it under CI."""
    _problem(post(arena_token, payload("lea"), key=key), 400, "cle_idempotence_invalide")


def test_body_too_large_is_413_before_authentication(settings: Any) -> None:
    settings.API_MAX_BODY_BYTES = 1000

    response = post(None, payload(*[f"personne{n}" for n in range(200)]))

    _problem(response, 413, "corps_trop_grand")


def test_other_method_is_405_with_allow(arena_token: str) -> None:
    response = Client().get(ENDPOINT, HTTP_AUTHORIZATION=f"Bearer {arena_token}")

    _problem(response, 405, "methode_non_autorisee")
    assert response["Allow"] == "POST"


def test_unknown_path_is_a_404_problem(demo: None) -> None:
    _problem(Client().post("/api/v1/inconnu/", {}), 404, "introuvable")
    _problem(Client().get("/api/v1/"), 404, "introuvable")


def test_database_down_is_503_with_retry_after(
    teacher: Any, arena_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from convergence.api import audience

    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    monkeypatch.setattr(audience, "resolve", down)

    response = post(arena_token, payload(teacher.login))

    _problem(response, 503, "service_indisponible")
    assert int(response["Retry-After"]) > 0
