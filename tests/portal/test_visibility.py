"""Who sees which tile: ``Service.objects.visible_to(user)`` over the demo académie."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser

from convergence.accounts import actions
from convergence.accounts.models import Assignment, current_school_year
from convergence.core.models import Establishment
from convergence.portal.models import AudienceRule, Service

STAFF_COMMON = {"messagerie", "arena", "pia", "pratic"}

EXPECTED = {
    "pupil": {
        "messagerie",
        "ent",
        "vie-scolaire",
        "educonnect",
        "cdi-victor-hugo",
        "transports-doubs",
    },
    "pupil_in_dole": {
        "messagerie",
        "ent",
        "vie-scolaire",
        "educonnect",
        "cdi-charles-nodier",
        "transports-jura",
    },
    "parent": {
        "ent",
        "vie-scolaire",
        "educonnect",
        "cdi-victor-hugo",
        "transports-doubs",
        "cdi-charles-nodier",
        "transports-jura",
    },
    "teacher": STAFF_COMMON
    | {"ent", "vie-scolaire", "magistere", "cdi-victor-hugo"}
    | {"cdi-louis-pasteur", "salles-louis-pasteur"},
    "head_of_school": STAFF_COMMON
    | {"ent", "vie-scolaire", "magistere", "opale", "cdi-victor-hugo"},
    "cpe": STAFF_COMMON | {"ent", "vie-scolaire", "magistere", "cdi-victor-hugo"},
    "administrative_agent": STAFF_COMMON | {"opale", "cdi-charles-nodier"},
    "agent": STAFF_COMMON | {"cdi-victor-hugo"},
    "referent": STAFF_COMMON | {"ent", "vie-scolaire", "magistere", "cdi-victor-hugo"},
    "dsi": STAFF_COMMON | {"supervision"},
}


def slugs(user) -> set[str]:
    return set(Service.objects.visible_to(user).values_list("slug", flat=True))


def previous_school_year() -> str:
    start = int(current_school_year()[:4]) - 1
    return f"{start}-{start + 1}"


@pytest.mark.parametrize("person", sorted(EXPECTED))
def test_each_demo_person_sees_exactly_their_services(request, person):
    user = request.getfixturevalue(person)
    assert slugs(user) == EXPECTED[person]


def test_pupil_sees_the_services_of_her_school_and_department(pupil):
    visible = slugs(pupil)
    assert {"messagerie", "ent", "vie-scolaire", "educonnect"} <= visible
    assert {"cdi-victor-hugo", "transports-doubs"} <= visible


def test_pupil_does_not_see_staff_services(pupil):
    assert slugs(pupil).isdisjoint({"arena", "pia", "pratic", "opale", "supervision", "magistere"})


def test_pupil_in_dole_does_not_see_doubs_nor_victor_hugo_services(pupil_in_dole):
    visible = slugs(pupil_in_dole)
    assert "transports-doubs" not in visible
    assert "cdi-victor-hugo" not in visible


def test_parent_sees_the_services_of_each_childs_school(parent):
    visible = slugs(parent)
    assert "transports-doubs" in visible
    assert "cdi-victor-hugo" in visible
    assert {"ent", "vie-scolaire", "educonnect"} <= visible


def test_teacher_sees_arena_and_magistere_not_educonnect_nor_opale(teacher):
    visible = slugs(teacher)
    assert {"arena", "magistere"} <= visible
    assert visible.isdisjoint({"educonnect", "opale"})


def test_teacher_in_the_doubs_does_not_see_the_pupils_transport(teacher):
    # The rule asks for a pupil or parent role AND the Doubs, in the same assignment.
    assert "transports-doubs" not in slugs(teacher)


def test_administrative_agent_sees_opale_not_magistere(administrative_agent):
    visible = slugs(administrative_agent)
    assert "opale" in visible
    assert "magistere" not in visible


def test_dsi_sees_supervision(dsi):
    assert "supervision" in slugs(dsi)


def test_only_the_dsi_sees_supervision(demo):
    from convergence.accounts.models import User

    seeing = [user.login for user in User.objects.all() if "supervision" in slugs(user)]
    assert len(seeing) == 1


def test_unpublished_service_is_invisible_even_to_its_audience(pupil):
    Service.objects.filter(slug="ent").update(is_published=False)
    assert "ent" not in slugs(pupil)


def test_unpublished_service_for_everyone_is_invisible(dsi):
    Service.objects.filter(slug="messagerie").update(is_published=False)
    assert "messagerie" not in slugs(dsi)


def test_assignment_of_a_past_school_year_grants_nothing(pupil):
    Assignment.objects.filter(user=pupil).update(school_year=previous_school_year())
    assert slugs(pupil) == set()


def test_former_teacher_keeps_only_the_services_of_this_years_school(teacher):
    Assignment.objects.filter(user=teacher, establishment__uai="0250013D").update(
        school_year=previous_school_year()
    )
    visible = slugs(teacher)
    assert "cdi-victor-hugo" not in visible
    assert "arena" in visible


def test_anonymous_visitor_sees_nothing(demo):
    assert slugs(AnonymousUser()) == set()


def test_rule_keys_must_match_one_and_the_same_assignment(demo):
    # A pupil in the Jura who also works as an agent in the Doubs is not a Doubs pupil.
    person = actions.create_account(
        acting_user=None,
        first_name="Inès",
        last_name="Garnier",
        birth_date=datetime.date(2008, 2, 2),
        password=None,
        state="active",
        roles=[
            actions.RoleGrant(Establishment.objects.get(uai="0390012B"), "eleve"),
            actions.RoleGrant(Establishment.objects.get(uai="0250013D"), "agent"),
        ],
    )
    visible = slugs(person)
    assert "transports-doubs" not in visible
    assert {"educonnect", "arena", "cdi-victor-hugo"} <= visible


def test_rule_on_an_establishment_applies_to_every_role_there(demo, agent):
    assert AudienceRule.objects.filter(service__slug="cdi-victor-hugo", role="").exists()
    assert "cdi-victor-hugo" in slugs(agent)


def test_visibility_costs_two_queries_whatever_the_number_of_roles(
    referent, django_assert_num_queries
):
    with django_assert_num_queries(2):
        list(Service.objects.visible_to(referent))


def test_each_visible_service_is_listed_once(parent):
    listed = list(Service.objects.visible_to(parent).values_list("slug", flat=True))
    assert len(listed) == len(set(listed))
