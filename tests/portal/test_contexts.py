"""Each person's own dashboard: a parent sees one section per child with that child's school's
services, a teacher one per establishment, the rest in one common section; the sections follow
every change of assignments at once, at a bounded cost."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from convergence.accounts.models import Assignment, Guardianship, Role, User, current_school_year
from convergence.core.models import Establishment
from convergence.portal import actions
from convergence.portal.models import Service
from tests.helpers import text_of

# The pupil's dashboard, measured in test_dashboard.py, plus one query: the children's
# assignments, read at every view like the audience.
MAX_PARENT_DASHBOARD_QUERIES = 8


def sections(response) -> dict[str, list[str]]:
    """Section title → the service slugs shown in it, in order."""
    assert response.status_code == 200
    content = response.content.decode()
    found: dict[str, list[str]] = {}
    parts = re.split(r'<section class="fr-mt-4w cv-section" id="([a-z0-9-]+)"', content)
    for key, body in zip(parts[1::2], parts[2::2], strict=True):
        body = body.split("</section>", 1)[0]
        title = re.search(r"<h3 [^>]*>([^<]*)</h3>", body)
        assert title is not None
        found[title.group(1)] = re.findall(
            rf'<li [^>]*id="service-(?:{re.escape(key)}-)?([a-z0-9-]+)"', body
        )
    return found


@pytest.fixture
def karim(client, parent):
    client.force_login(parent)
    return parent


def test_parent_sees_one_section_per_child_with_their_schools_services(client, karim):
    found = sections(client.get("/"))
    assert found["Léa — 4e B"] == ["cdi-victor-hugo", "transports-doubs"]
    assert found["Yanis — 1re G2"] == ["cdi-charles-nodier", "transports-jura"]
    # No « Messagerie »: a parent has no académie mailbox (their address is their own).
    assert found["Services communs"] == ["ent", "vie-scolaire", "educonnect"]


def test_each_child_section_names_the_school_and_its_town(client, karim):
    text = text_of(client.get("/"))
    assert "Collège Victor Hugo, Besançon" in text
    assert "Lycée Charles Nodier, Dole" in text


def test_parent_can_jump_to_each_childs_section(client, karim, pupil, pupil_in_dole):
    content = client.get("/").content.decode()
    nav = content[content.index('class="cv-sections-nav"') :].split("</nav>", 1)[0]
    assert re.findall(r'href="#([a-z0-9-]+)"', nav) == [
        f"enfant-{pupil.pk}-{pupil.assignments.get().establishment_id}",
        f"enfant-{pupil_in_dole.pk}-{pupil_in_dole.assignments.get().establishment_id}",
        "services-communs",
    ]


def test_child_section_links_to_the_childs_page(client, karim, pupil):
    assert f'href="/enfants/{pupil.pk}/"' in client.get("/").content.decode()


def test_teacher_in_two_schools_sees_each_schools_own_services(client, teacher):
    client.force_login(teacher)
    found = sections(client.get("/"))
    assert found["Collège Victor Hugo"] == ["cdi-victor-hugo"]
    assert found["Lycée Louis Pasteur"] == ["cdi-louis-pasteur", "salles-louis-pasteur"]
    common = found["Services communs"]
    assert {"messagerie", "ent", "arena", "magistere"} <= set(common)
    assert "cdi-victor-hugo" not in common


def test_person_in_one_school_keeps_one_list(client, pupil):
    client.force_login(pupil)
    response = client.get("/")
    assert sections(response) == {}
    assert 'id="service-cdi-victor-hugo"' in response.content.decode()


def test_favourites_stay_personal_across_sections(client, karim):
    actions.pin_service(acting_user=karim, service=Service.objects.get(slug="transports-jura"))
    content = client.get("/").content.decode()
    favourites = content[content.index('id="titre-favoris"') : content.index('id="catalogue"')]
    assert "Transports scolaires du Jura" in favourites
    yanis_section = content[content.index("Yanis — 1re G2") :].split("</section>", 1)[0]
    assert "Retirer des favoris" in yanis_section


def test_a_new_assignment_adds_its_section_at_once(client, teacher):
    client.force_login(teacher)
    client.get("/")  # cached
    Assignment.objects.create(
        user=teacher,
        establishment=Establishment.objects.get(uai="0390012B"),
        role=Role.ENSEIGNANT,
        school_year=current_school_year(),
    )
    assert sections(client.get("/"))["Lycée Charles Nodier"] == ["cdi-charles-nodier"]


def test_an_ended_assignment_removes_its_section_at_once(client, teacher):
    client.force_login(teacher)
    client.get("/")
    Assignment.objects.filter(user=teacher, establishment__uai="0251080N").delete()
    response = client.get("/")
    assert sections(response) == {}
    assert "salles-louis-pasteur" not in response.content.decode()


def test_a_child_changing_class_shows_at_once(client, karim, pupil):
    client.get("/")
    Assignment.objects.filter(user=pupil).update(division="3e A")  # as an import writes it
    assert "Léa — 3e A" in sections(client.get("/"))


def test_a_new_child_gets_a_section(client, karim, invited_pupil):
    client.get("/")
    Guardianship.objects.create(parent=karim, pupil=invited_pupil)
    assert "Hugo — 6e A" in sections(client.get("/"))


def test_a_renamed_school_shows_its_new_name(client, teacher):
    client.force_login(teacher)
    client.get("/")
    school = Establishment.objects.get(uai="0251080N")
    school.name = "Lycée Pasteur (nouveau nom)"
    school.save()
    assert "Lycée Pasteur (nouveau nom)" in sections(client.get("/"))


def dashboard_queries(client) -> int:
    client.get("/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
    return len(captured)


def test_parent_dashboard_query_count_is_bounded(client, karim):
    assert dashboard_queries(client) <= MAX_PARENT_DASHBOARD_QUERIES


def test_parent_dashboard_queries_do_not_grow_with_children(client, karim, demo):
    before = dashboard_queries(client)
    school = Establishment.objects.get(uai="0700009E")
    for number in range(3):
        child = User.objects.create_user(
            f"enfant{number}", first_name=f"Enfant{number}", last_name="Martin"
        )
        Assignment.objects.create(
            user=child,
            establishment=school,
            role=Role.ELEVE,
            division="2de",
            school_year=current_school_year(),
        )
        Guardianship.objects.create(parent=karim, pupil=child)
    Assignment.objects.create(
        user=karim, establishment=school, role=Role.PARENT, school_year=current_school_year()
    )
    assert "Enfant2 — 2de" in sections(client.get("/"))
    assert dashboard_queries(client) == before


def test_teacher_dashboard_query_count_is_bounded(client, teacher):
    client.force_login(teacher)
    # As a pupil's (test_dashboard.py): the sections cost no query once cached.
    assert dashboard_queries(client) <= MAX_PARENT_DASHBOARD_QUERIES - 1


def test_teacher_dashboard_is_served_from_the_cache(client, teacher):
    client.force_login(teacher)
    client.get("/")
    with CaptureQueriesContext(connection) as captured:
        client.get("/")
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert "portal_audiencerule" not in sql
    assert '"core_establishment"."name"' not in sql  # the sections' titles come cached
