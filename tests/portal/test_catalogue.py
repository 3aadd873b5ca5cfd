"""The cached catalogue (portal/catalogue.py): computed once, shared by equal audiences, and
never stale after a change of the catalogue, of a person's assignments or favourites."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from convergence.accounts.models import Assignment, Role, current_school_year
from convergence.core import fragments
from convergence.portal import actions
from convergence.portal.models import AudienceRule, Service


def tiles(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'<li [^>]*id="service-([a-z0-9-]+)"', response.content.decode())


def favourites(response) -> list[str]:
    return re.findall(
        r'class="cv-favourite" draggable="true" data-slug="([a-z0-9-]+)"', response.content.decode()
    )


def new_service(slug: str, **fields) -> Service:
    defaults = {
        "name": f"Service {slug}",
        "description": "Un service de plus.",
        "url": f"https://{slug}.ac-besancon.fr/",
        "category": "pedagogie",
        "position": 300,
    }
    return Service.objects.create(slug=slug, **{**defaults, **fields})


@pytest.fixture
def lea(client, pupil):
    client.force_login(pupil)
    client.get("/")  # the catalogue is now in the cache
    return pupil


def test_a_new_service_for_everyone_shows_at_once(client, lea):
    new_service("nouveau", for_everyone=True)
    assert "nouveau" in tiles(client.get("/"))


def test_an_unpublished_service_disappears_at_once(client, lea):
    service = Service.objects.get(slug="ent")
    service.is_published = False
    service.save()
    assert "ent" not in tiles(client.get("/"))


def test_a_renamed_service_shows_its_new_name(client, lea):
    service = Service.objects.get(slug="ent")
    service.name = "Environnement numérique renommé"
    service.save()
    assert "Environnement numérique renommé" in client.get("/").content.decode()


def test_a_new_audience_rule_shows_at_once(client, lea, demo):
    service = new_service("reserve")
    assert "reserve" not in tiles(client.get("/"))
    AudienceRule.objects.create(service=service, role=Role.ELEVE)
    assert "reserve" in tiles(client.get("/"))


def test_a_deleted_audience_rule_hides_at_once(client, lea):
    service = new_service("reserve")
    rule = AudienceRule.objects.create(service=service, role=Role.ELEVE)
    assert "reserve" in tiles(client.get("/"))
    rule.delete()
    assert "reserve" not in tiles(client.get("/"))


def test_a_new_assignment_changes_the_catalogue_at_once(client, lea):
    service = new_service("pour-les-profs")
    AudienceRule.objects.create(service=service, role=Role.ENSEIGNANT)
    assert "pour-les-profs" not in tiles(client.get("/"))
    school = Assignment.objects.current().filter(user=lea).first().establishment
    Assignment.objects.create(
        user=lea, role=Role.ENSEIGNANT, establishment=school, school_year=current_school_year()
    )
    assert "pour-les-profs" in tiles(client.get("/"))


def test_assignments_removed_in_bulk_change_the_catalogue_at_once(client, lea):
    """An import or the rentrée writes assignments in bulk, without signals: the catalogue
    reads the person's audience at every view, so it follows them anyway."""
    assert "cdi-victor-hugo" in tiles(client.get("/"))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_assignment WHERE user_id = %s", [lea.pk])
    assert "cdi-victor-hugo" not in tiles(client.get("/"))


def test_pinning_unpinning_and_moving_show_at_once(client, lea):
    ent, messagerie = Service.objects.get(slug="ent"), Service.objects.get(slug="messagerie")
    actions.pin_service(acting_user=lea, service=ent)
    assert favourites(client.get("/")) == ["ent"]
    actions.pin_service(acting_user=lea, service=messagerie)
    assert favourites(client.get("/")) == ["ent", "messagerie"]
    actions.move_favourite(acting_user=lea, service=messagerie, offset=-1)
    assert favourites(client.get("/")) == ["messagerie", "ent"]
    actions.reorder_favourites(acting_user=lea, service_ids=[ent.pk, messagerie.pk])
    assert favourites(client.get("/")) == ["ent", "messagerie"]
    actions.unpin_service(acting_user=lea, service=ent)
    assert favourites(client.get("/")) == ["messagerie"]


def test_a_favourite_of_a_deleted_service_disappears(client, lea):
    service = new_service("ephemere", for_everyone=True)
    actions.pin_service(acting_user=lea, service=service)
    assert favourites(client.get("/")) == ["ephemere"]
    service.delete()
    assert favourites(client.get("/")) == []


def test_people_with_the_same_audience_share_the_computed_catalogue(pupil, demo):
    """A second pupil of the same class reads the first one's catalogue from the cache."""
    from convergence.accounts.models import AccountState, User

    classmate = User.objects.create_user(
        "camarade", first_name="Camille", last_name="Roy", state=AccountState.ACTIVE
    )
    for assignment in Assignment.objects.current().filter(user=pupil):
        Assignment.objects.create(
            user=classmate,
            role=assignment.role,
            establishment=assignment.establishment,
            school_year=assignment.school_year,
        )
    first, second = Client(), Client()
    first.force_login(pupil)
    second.force_login(classmate)
    assert first.get("/").status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = second.get("/")
    assert sorted(tiles(response)) == sorted(tiles(first.get("/")))
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    assert "portal_audiencerule" not in sql  # the visibility rules were not evaluated again
    assert "portal_service" not in sql  # nor the tiles rendered again


def test_each_page_gets_its_own_csrf_token_and_forms_work(pupil, demo):
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.force_login(pupil)
    second.force_login(pupil)
    tokens = []
    for client in (first, second):
        page = client.get("/").content.decode()
        found = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert found
        assert fragments.csrf_placeholder() not in page
        tokens.append(found[-1])
    assert tokens[0] != tokens[1]
    response = second.post("/favoris/ent/epingler/", {"csrfmiddlewaretoken": tokens[1]})
    assert response.status_code in (200, 302)
    assert favourites(second.get("/")) == ["ent"]


def test_a_dashboard_view_writes_nothing(client, lea):
    client.get("/")
    writes: list[str] = []

    def count(execute, sql, params, many, context):
        if sql.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            writes.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        for _ in range(5):
            assert client.get("/").status_code == 200
    assert writes == []


def test_the_dashboard_works_without_its_cache(client, lea, monkeypatch):
    """The catalogue's cache failing on every call (Redis down): the catalogue is computed
    and rendered each time, and stays right."""
    from convergence.core import fragments
    from convergence.portal import catalogue

    monkeypatch.setattr(catalogue, "cache", BrokenCache())
    monkeypatch.setattr(fragments, "cache", BrokenCache())
    assert "ent" in tiles(client.get("/"))
    new_service("pendant-la-panne", for_everyone=True)
    assert "pendant-la-panne" in tiles(client.get("/"))


class BrokenCache:
    """A cache whose every call fails, as Redis does when it is down."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("cache down")

        return fail
