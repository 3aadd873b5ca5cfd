"""The same Idempotency-Key from the same service gets the first answer for a day and
notifies nobody twice; another request under that key is a 409."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from convergence.api.actions import purge_idempotent_requests
from convergence.api.models import IdempotentRequest
from convergence.audit.models import AuditEvent
from tests.api.conftest import payload, post, service_token


def test_replay_returns_the_first_answer_and_notifies_no_one_again(
    teacher: Any, arena_token: str
) -> None:
    first = post(arena_token, payload(teacher.login, "inconnu"), key="envoi-42")
    again = post(arena_token, payload(teacher.login, "inconnu"), key="envoi-42")

    assert again.status_code == first.status_code == 202
    assert again.json() == first.json()
    assert teacher.notifications.count() == 1
    assert AuditEvent.objects.filter(event_type="api.notifications_posted").count() == 1


def test_same_key_with_another_body_is_a_409(teacher: Any, arena_token: str) -> None:
    post(arena_token, payload(teacher.login), key="envoi-43")

    response = post(arena_token, payload(teacher.login, titre="Autre chose"), key="envoi-43")

    assert response.status_code == 409
    assert response.json()["code"] == "cle_idempotence_reutilisee"
    assert "clé" in response.json()["detail"]
    assert teacher.notifications.count() == 1


def test_key_expires_after_a_day(teacher: Any, arena_token: str) -> None:
    post(arena_token, payload(teacher.login), key="envoi-44")
    IdempotentRequest.objects.update(created=timezone.now() - datetime.timedelta(hours=25))

    response = post(arena_token, payload(teacher.login, titre="Nouvel envoi"), key="envoi-44")

    assert response.status_code == 202
    # notify's own key still guards the same person against the same key.
    assert response.json()["notifies"] == 0


def test_keys_are_per_client(teacher: Any, arena_token: str) -> None:
    from convergence.api.models import ApiClient
    from convergence.core.blueprints import apply

    apply(
        {
            "services": [
                {
                    "slug": "autre-service",
                    "name": "Autre service",
                    "description": "Un autre service du catalogue.",
                    "url": "https://autre.exemple.fr/",
                    "category": "gestion",
                    "audience": "everyone",
                    "oidc": {
                        "client_id": "autre",
                        "client_secret": "autre-secret-de-demonstration-assez-long",
                        "redirect_uris": ["https://autre.exemple.fr/cb"],
                    },
                    "api": {"scopes": ["notifications:annonces"]},
                }
            ]
        }
    )
    assert ApiClient.objects.count() == 2
    other = service_token_of("autre", "autre-secret-de-demonstration-assez-long")
    post(arena_token, payload(teacher.login), key="partagee")

    response = post(other, payload(teacher.login, titre="Autre"), key="partagee")

    assert response.status_code == 202
    assert teacher.notifications.count() == 2


def service_token_of(client_id: str, secret: str) -> str:
    from tests.api.conftest import token_response

    response = token_response("notifications:annonces", client_id=client_id, secret=secret)
    assert response.status_code == 200, response.content
    value: str = response.json()["access_token"]
    return value


def test_refused_call_keeps_the_key_free(teacher: Any, arena_token: str) -> None:
    assert (
        post(arena_token, payload(teacher.login, categorie="incidents"), key="k").status_code == 403
    )

    assert post(arena_token, payload(teacher.login), key="k").status_code == 202


def test_daily_purge_deletes_old_answers(teacher: Any, arena_token: str) -> None:
    post(arena_token, payload(teacher.login), key="vieille")
    post(arena_token, payload(teacher.login), key="recente")
    IdempotentRequest.objects.filter(key="vieille").update(
        created=timezone.now() - datetime.timedelta(hours=25)
    )

    assert purge_idempotent_requests() == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["recente"]


@pytest.mark.django_db(transaction=True)
def test_two_identical_calls_at_once_notify_once(
    concurrent_db: None,
    teacher: Any,
    run_together: Callable[[int, Callable[[int], Any]], list[Any]],
) -> None:
    token = service_token()

    responses = run_together(
        2, lambda _number: post(token, payload(teacher.login), key="en-meme-temps")
    )

    assert [response.status_code for response in responses] == [202, 202]
    assert responses[0].json() == responses[1].json()
    assert teacher.notifications.count() == 1
    assert IdempotentRequest.objects.count() == 1
