"""Who an announcement reaches, and who may write one: an establishment and its roles, its
classes and their parents, departments and the whole académie for the rectorat only."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from convergence.accounts import permissions
from convergence.accounts.models import AccountState, Role
from convergence.portal import announcement_actions
from convergence.portal.announcements import audience_of
from convergence.portal.models import Announcement
from tests.helpers import client_of
from tests.portal.announcement_factories import NODIER, draft, written


def logins(announcement: Announcement) -> set[str]:
    return set(audience_of(announcement).values_list("login", flat=True))


def test_an_establishment_reaches_its_active_people_and_its_pupils_parents(
    head_of_school: Any, pupil: Any, parent: Any, teacher: Any, cpe: Any, agent: Any,
    referent: Any, invited_pupil: Any, pupil_in_dole: Any, administrative_agent: Any,
) -> None:  # fmt: skip
    reached = logins(written(head_of_school))
    expected = {pupil, parent, teacher, cpe, agent, referent, head_of_school}
    assert {person.login for person in expected} <= reached
    # Hugo has not activated his account; Yanis and Claire are in Dole.
    assert not {invited_pupil.login, pupil_in_dole.login, administrative_agent.login} & reached


def test_roles_narrow_the_audience(head_of_school: Any, teacher: Any, cpe: Any, pupil: Any) -> None:
    reached = logins(written(head_of_school, roles=[Role.ENSEIGNANT, Role.CPE]))
    assert teacher.login in reached and cpe.login in reached
    assert pupil.login not in reached and head_of_school.login not in reached


def test_a_class_reaches_its_pupils_and_with_parents_theirs(
    head_of_school: Any, pupil: Any, parent: Any, teacher: Any, invited_pupil: Any
) -> None:
    invited_pupil.state = AccountState.ACTIVE
    invited_pupil.save(update_fields=["state"])
    pupils_only = logins(written(head_of_school, roles=[Role.ELEVE], divisions=["4e B"]))
    assert pupils_only == {pupil.login}
    with_parents = logins(
        written(head_of_school, roles=[Role.ELEVE, Role.PARENT], divisions=["4e B"])
    )
    assert with_parents == {pupil.login, parent.login}
    # The 6e A (Hugo) is another class: its pupils are not reached.
    assert invited_pupil.login not in with_parents


def test_parents_alone_are_those_of_the_targeted_pupils(
    head_of_school: Any, parent: Any, pupil: Any
) -> None:
    assert logins(written(head_of_school, roles=[Role.PARENT], divisions=["4e B"])) == {
        parent.login
    }
    assert logins(written(head_of_school, roles=[Role.PARENT], divisions=["6e A"])) == set()


def test_a_department_reaches_its_establishments_only(
    dsi: Any, pupil: Any, pupil_in_dole: Any, administrative_agent: Any
) -> None:
    reached = logins(written(dsi, uai=None, departments=["39"]))
    assert {pupil_in_dole.login, administrative_agent.login} <= reached
    assert pupil.login not in reached


def test_everyone_reaches_every_active_person(
    dsi: Any, pupil: Any, pupil_in_dole: Any, teacher: Any, invited_pupil: Any
) -> None:
    reached = logins(written(dsi, uai=None, everyone=True))
    assert {pupil.login, pupil_in_dole.login, teacher.login, dsi.login} <= reached
    assert invited_pupil.login not in reached


def test_a_head_of_school_cannot_address_another_school(head_of_school: Any) -> None:
    with pytest.raises(PermissionDenied):
        written(head_of_school, uai=NODIER)


@pytest.mark.parametrize(
    "fields", [{"uai": None, "everyone": True}, {"uai": None, "departments": ["25"]}]
)
def test_a_head_of_school_cannot_address_departments_or_everyone(
    head_of_school: Any, fields: dict[str, Any]
) -> None:
    with pytest.raises(announcement_actions.AnnouncementRefused):
        written(head_of_school, **fields)
    assert not Announcement.objects.exists()


def test_classes_belong_to_one_establishment(dsi: Any) -> None:
    with pytest.raises(announcement_actions.AnnouncementRefused):
        announcement_actions.create_announcement(
            acting_user=dsi, draft=draft(uai=None, everyone=True, divisions=["4e B"])
        )


def test_who_may_publish(
    head_of_school: Any, dsi: Any, teacher: Any, referent: Any, parent: Any
) -> None:
    assert permissions.may_publish_announcements(head_of_school)
    assert permissions.may_publish_announcements(dsi)
    assert permissions.is_rectorat(dsi) and not permissions.is_rectorat(head_of_school)
    for person in (teacher, referent, parent):
        assert not permissions.may_publish_announcements(person)
    assert list(
        permissions.announcement_establishments(head_of_school).values_list("uai", flat=True)
    ) == ["0250013D"]


def test_a_teacher_cannot_publish_at_all(teacher: Any) -> None:
    with pytest.raises(PermissionDenied):
        written(teacher)
    client = client_of(teacher)
    assert client.get("/annonces/gestion/").status_code == 403
    assert client.get("/annonces/gestion/nouvelle/").status_code == 403
    assert client.post("/annonces/gestion/nouvelle/", {"title": "x"}).status_code == 403


def test_the_form_offers_the_head_of_school_only_their_school_and_its_classes(
    head_of_school: Any,
) -> None:
    page = client_of(head_of_school).get("/annonces/gestion/nouvelle/").content.decode()
    assert "Collège Victor Hugo" in page and "Lycée Charles Nodier" not in page
    assert "4e B" in page and "6e A" in page
    assert 'value="academie"' not in page and 'value="departements"' not in page


def test_the_form_refuses_another_school_posted_by_hand(head_of_school: Any) -> None:
    from tests.portal.announcement_factories import establishment

    response = client_of(head_of_school).post(
        "/annonces/gestion/nouvelle/",
        {
            "title": "Hors de portée",
            "body": "Texte",
            "scope": "etablissement",
            "establishment": establishment(NODIER).pk,
            "action": "enregistrer",
        },
    )
    assert response.status_code == 400
    assert not Announcement.objects.exists()
    everyone = client_of(head_of_school).post(
        "/annonces/gestion/nouvelle/",
        {"title": "Tous", "body": "Texte", "scope": "academie", "action": "enregistrer"},
    )
    assert everyone.status_code == 400 and not Announcement.objects.exists()
