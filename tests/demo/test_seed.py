"""The ``seed`` command: bulk pupils for load tests, spread over the demo's schools."""

from __future__ import annotations

import random
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from convergence.accounts import events
from convergence.accounts.models import Assignment, Role, User, current_school_year
from convergence.audit.models import AuditEvent
from convergence.core.models import EstablishmentKind
from demo.management.commands.seed import (
    FIRST_NAMES,
    LAST_NAMES,
    LOAD_TEST_PASSWORD,
    _draw_name,
)
from tests.helpers import post_sign_in as sign_in

# The CheckConstraint "user_login_shape" of accounts.User.
LOGIN_SHAPE = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")
PUPIL_KINDS = {
    EstablishmentKind.ECOLE,
    EstablishmentKind.COLLEGE,
    EstablishmentKind.LYCEE,
    EstablishmentKind.LYCEE_PRO,
}


def seed(**options: object) -> list[User]:
    """Run the command and return the pupils it created, oldest first."""
    last_pk = User.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    call_command("seed", stdout=StringIO(), **options)
    return list(User.objects.filter(pk__gt=last_pk).order_by("pk"))


def test_seed_creates_the_requested_number_of_active_pupils(demo):
    pupils = seed(pupils=300)
    assert len(pupils) == 300
    assert {pupil.state for pupil in pupils} == {"active"}


def test_seeded_pupils_are_pupils_of_demo_schools_this_year(demo):
    pupils = seed(pupils=300)
    assignments = Assignment.objects.filter(user__in=pupils).select_related("establishment")
    assert assignments.count() == 300
    assert {a.role for a in assignments} == {Role.ELEVE}
    assert {a.school_year for a in assignments} == {current_school_year()}
    assert {a.establishment.kind for a in assignments} <= PUPIL_KINDS
    # Spread over several schools, not piled into one.
    assert len({a.establishment_id for a in assignments}) > 3


def test_seeded_logins_are_unique_and_fit_the_database_shape(demo):
    pupils = seed(pupils=300) + seed(pupils=300)
    logins = [pupil.login for pupil in pupils]
    assert len(set(logins)) == 600
    assert all(LOGIN_SHAPE.match(login) for login in logins)
    assert User.objects.count() == len(set(User.objects.values_list("login", flat=True)))


def test_college_pupils_have_a_college_division_and_matching_age(demo):
    pupils = seed(pupils=300, establishment=["0250013D"])
    first_year = int(current_school_year()[:4])
    ages = {"6e": 11, "5e": 12, "4e": 13, "3e": 14}
    for assignment in Assignment.objects.filter(user__in=pupils).select_related("user"):
        level, letter = assignment.division.split(" ")
        assert letter in {"A", "B", "C", "D"}
        assert first_year - assignment.user.birth_date.year in {ages[level], ages[level] + 1}


def test_seed_limited_to_one_establishment_puts_every_pupil_there(demo):
    pupils = seed(pupils=50, establishment=["0390012B"])
    uais = set(
        Assignment.objects.filter(user__in=pupils).values_list("establishment__uai", flat=True)
    )
    assert uais == {"0390012B"}


def test_seed_refuses_an_unknown_establishment(demo):
    with pytest.raises(CommandError, match="0259999Z"):
        call_command("seed", pupils=10, establishment=["0259999Z"], stdout=StringIO())


def test_pupils_given_the_known_password_can_sign_in(demo, client):
    pupils = seed(pupils=20, password_for=2)
    for pupil in pupils[:2]:
        response = sign_in(client, pupil.login, LOAD_TEST_PASSWORD)
        assert response.status_code == 302
        assert response.headers["Location"] == "/"
        assert client.session["_auth_user_id"] == str(pupil.pk)
        client.logout()


def test_other_seeded_pupils_cannot_sign_in_with_the_known_password(demo, client):
    pupils = seed(pupils=20, password_for=2)
    response = sign_in(client, pupils[2].login, LOAD_TEST_PASSWORD)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert not pupils[2].has_usable_password()


def test_seed_records_one_audit_event_for_the_whole_load(demo):
    before = AuditEvent.objects.filter(event_type=events.ACCOUNT_CREATED.code).count()
    seed(pupils=300, batch=100)
    created = AuditEvent.objects.filter(event_type=events.ACCOUNT_CREATED.code)
    assert created.count() == before + 1
    assert created.latest("pk").data == {"count": 300, "source": "seed"}


def test_seed_without_the_demo_fails_with_a_french_message(db):
    with pytest.raises(CommandError, match="chargez d'abord la démonstration"):
        call_command("seed", pupils=10, stdout=StringIO())
    assert not User.objects.exists()


def test_seed_avoids_the_name_of_someone_already_there():
    first_draw = _draw_name(random.Random(7), set())
    assert _draw_name(random.Random(7), {first_draw}) != first_draw


def test_seed_accepts_a_homonym_once_every_name_is_taken():
    everyone = {(first, last) for first in FIRST_NAMES for last in LAST_NAMES}
    assert _draw_name(random.Random(7), everyone) in everyone
