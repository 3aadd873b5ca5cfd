"""POST /api/v1/notifications/: the demo's Arena notifies the people it serves."""

from __future__ import annotations

from typing import Any

from convergence.api.actions import signed_title
from convergence.api.auth import Caller
from convergence.api.schemas import TITLE_LENGTH as API_TITLE_LENGTH
from convergence.audit.models import AuditEvent
from convergence.core.notify import TITLE_LENGTH
from convergence.portal.models import Service
from convergence.sso.models import OidcClient
from tests.api.conftest import payload, post


def test_served_person_is_notified_and_the_call_audited(teacher: Any, arena_token: str) -> None:
    response = post(arena_token, payload(teacher.login, lien="/notifications/"))

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["notifies"] == 1
    assert body["ignores"] == []
    notification = teacher.notifications.get()
    assert notification.category == "annonces"
    assert notification.title == "Arena : Arena fermé samedi"
    assert notification.url == "/notifications/"
    assert notification.body.startswith("Maintenance annuelle.")
    assert "Arena" in notification.body.splitlines()[-1]
    event = AuditEvent.objects.get(event_type="api.notifications_posted")
    assert event.data["client"] == "arena-demo"
    assert event.data["category"] == "annonces"
    assert event.data["notified"] == 1


def test_person_may_be_named_by_the_sub_the_service_received(
    teacher: Any, arena_token: str
) -> None:
    response = post(arena_token, payload(str(teacher.pk)))

    assert response.status_code == 202
    assert response.json()["notifies"] == 1


def test_people_not_served_and_unknown_logins_are_ignored_alike(
    pupil: Any, teacher: Any, arena_token: str
) -> None:
    # Arena serves staff only: the pupil does not see its tile.
    response = post(arena_token, payload(pupil.login, "personne-inconnue", teacher.login))

    assert response.status_code == 202
    assert response.json()["ignores"] == [pupil.login, "personne-inconnue"]
    assert response.json()["notifies"] == 1
    assert not pupil.notifications.exists()


def test_duplicates_and_case_name_one_person_once(teacher: Any, arena_token: str) -> None:
    response = post(arena_token, payload(teacher.login, teacher.login.upper(), str(teacher.pk)))

    assert response.status_code == 202
    assert response.json() | {"id": ""} == {"id": "", "notifies": 1, "ignores": []}
    assert teacher.notifications.count() == 1


def test_suspended_account_is_ignored(teacher: Any, arena_token: str) -> None:
    teacher.state = "suspended"
    teacher.save(update_fields=["state"])

    response = post(arena_token, payload(teacher.login))

    assert response.json()["ignores"] == [teacher.login]


def test_unpublished_service_serves_nobody(teacher: Any, arena_token: str) -> None:
    Service.objects.filter(slug="arena").update(is_published=False)

    response = post(arena_token, payload(teacher.login))

    assert response.status_code == 202
    assert response.json()["ignores"] == [teacher.login]


def test_the_example_of_the_documentation(
    teacher: Any, head_of_school: Any, pupil: Any, arena_token: str
) -> None:
    response = post(
        arena_token,
        payload(teacher.login, head_of_school.login, pupil.login, "inconnu", lien="/statut/"),
        key="fermeture-2026-12-05",
    )

    assert response.status_code == 202
    assert response.json()["notifies"] == 2
    assert response.json()["ignores"] == [pupil.login, "inconnu"]
    assert [teacher.login, head_of_school.login, pupil.login] == ["sbernard", "pgirard", "lmartin"]


# --- a service cannot pass itself off as the portal ------------------------------------------


def test_stored_title_starts_with_the_service_name(teacher: Any, arena_token: str) -> None:
    # A push shows the title and the start of the body; an e-mail's subject is the title:
    # the line naming the service at the end of the body is not always seen.
    response = post(
        arena_token,
        payload(teacher.login, titre="Portail : changez votre mot de passe", texte="x" * 1800),
    )

    assert response.status_code == 202, response.content
    notification = teacher.notifications.get()
    assert notification.title == "Arena : Portail : changez votre mot de passe"
    assert notification.body.splitlines()[-1] == "Envoyé par le service « Arena »."


def test_title_longer_than_the_room_left_by_the_service_name_is_refused(
    teacher: Any, arena_token: str
) -> None:
    response = post(arena_token, payload(teacher.login, titre="t" * (API_TITLE_LENGTH + 1)))

    assert response.status_code == 422
    assert response.json()["erreurs"] == [
        {"champ": "titre", "message": f"Au plus {API_TITLE_LENGTH} caractères."}
    ]


def _caller_named(name: str) -> Caller:
    """A caller whose service is named ``name`` (its client is not read by the title)."""
    return Caller(
        oidc_client=OidcClient(), client_id="c", service=Service(name=name), scopes=frozenset()
    )


def test_the_longest_name_and_title_fit_the_notification() -> None:
    length = Service._meta.get_field("name").max_length
    assert isinstance(length, int)
    longest_name = "N" * length

    signed = signed_title(_caller_named(longest_name), "t" * API_TITLE_LENGTH)

    assert signed == f"{longest_name} : {'t' * API_TITLE_LENGTH}"
    assert len(signed) <= TITLE_LENGTH


def test_a_title_too_long_is_trimmed_never_the_service_name() -> None:
    signed = signed_title(_caller_named("Arena"), "t" * 300)

    assert len(signed) == TITLE_LENGTH
    assert signed.startswith("Arena : ttt")
    assert signed.endswith("…")
