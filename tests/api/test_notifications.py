"""POST /api/v1/notifications/: the demo's Arena notifies the people it serves."""

from __future__ import annotations

from typing import Any

from convergence.audit.models import AuditEvent
from tests.api.conftest import payload, post


def test_served_person_is_notified_and_the_call_audited(teacher: Any, arena_token: str) -> None:
    response = post(arena_token, payload(teacher.login, lien="/notifications/"))

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["notifies"] == 1
    assert body["ignores"] == []
    notification = teacher.notifications.get()
    assert notification.category == "annonces"
    assert notification.title == "Arena fermé samedi"
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
    from convergence.portal.models import Service

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
