"""Blueprints: loading is idempotent, and a bad file changes nothing."""

from __future__ import annotations

import textwrap

import pytest

from convergence.accounts.models import Assignment, Guardianship, User
from convergence.audit.models import AuditEvent
from convergence.core.blueprints import BlueprintError, load
from convergence.core.models import Academie, Department, Establishment
from convergence.portal.models import AudienceRule, Service
from tests.conftest import DEMO_BLUEPRINT

COUNTED = (
    Academie,
    Department,
    Establishment,
    User,
    Assignment,
    Guardianship,
    Service,
    AudienceRule,
    AuditEvent,
)


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def write(tmp_path, text: str):
    path = tmp_path / "blueprint.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_demo_has_its_people_services_and_assignments(demo):
    counts = row_counts()
    assert counts["User"] == 11
    assert counts["Service"] == 16
    assert counts["Establishment"] == 13
    assert counts["Guardianship"] == 2
    assert counts["Assignment"] == 14


def test_loading_the_demo_twice_creates_nothing(demo):
    before = row_counts()
    report = load(DEMO_BLUEPRINT)
    assert row_counts() == before
    assert report.created == {}


def test_loading_the_demo_twice_keeps_every_login(demo):
    before = sorted(User.objects.values_list("login", flat=True))
    load(DEMO_BLUEPRINT)
    assert sorted(User.objects.values_list("login", flat=True)) == before


def test_loading_the_demo_twice_keeps_passwords_working(demo):
    load(DEMO_BLUEPRINT)
    lea = User.objects.get(first_name="Léa", last_name="Martin")
    assert lea.check_password("Girafe-Orange-Velo-71")


def test_blueprint_with_an_unknown_section_is_refused_before_writing(db, tmp_path):
    path = write(
        tmp_path,
        """
        departments:
          - {code: "25", name: Doubs}
        cantines:
          - {name: Self du collège}
        """,
    )
    with pytest.raises(BlueprintError, match="cantines"):
        load(path)
    assert Department.objects.count() == 0


def test_blueprint_with_a_bad_uai_writes_nothing(db, tmp_path):
    path = write(
        tmp_path,
        """
        academie:
          name: Académie de Besançon
          official_host: 127.0.0.1:8000
          mail_domain: ac-besancon.fr
        departments:
          - {code: "25", name: Doubs}
        establishments:
          - {uai: 0250013D, name: Collège Victor Hugo, kind: college, department: "25"}
          - {uai: 0250014D, name: Collège mal saisi, kind: college, department: "25"}
        """,
    )
    with pytest.raises(BlueprintError, match="0250014D") as caught:
        load(path)
    assert "lettre attendue" in str(caught.value)
    assert row_counts() == dict.fromkeys(row_counts(), 0)


def test_blueprint_with_a_uai_of_another_department_is_refused(db, tmp_path):
    path = write(
        tmp_path,
        """
        departments:
          - {code: "25", name: Doubs}
          - {code: "39", name: Jura}
        establishments:
          - {uai: 0390012B, name: Lycée Charles Nodier, kind: lycee, department: "25"}
        """,
    )
    with pytest.raises(BlueprintError, match="0390012B"):
        load(path)
    assert Department.objects.count() == 0
    assert Establishment.objects.count() == 0


def test_blueprint_that_is_not_yaml_is_refused(db, tmp_path):
    path = write(tmp_path, "departments: [unclosed\n")
    with pytest.raises(BlueprintError, match="Impossible de lire"):
        load(path)


def test_blueprint_without_named_sections_is_refused(db, tmp_path):
    path = write(tmp_path, "- just\n- a list\n")
    with pytest.raises(BlueprintError, match="sections nommées"):
        load(path)


def test_missing_blueprint_file_is_refused(db, tmp_path):
    with pytest.raises(BlueprintError, match="Impossible de lire"):
        load(tmp_path / "absent.yaml")


def test_blueprint_error_in_a_later_section_undoes_earlier_sections(demo, tmp_path):
    before = row_counts()
    path = write(
        tmp_path,
        """
        departments:
          - {code: "21", name: Côte-d'Or}
        services:
          - slug: cantine
            name: Cantine
            description: "Menus de la semaine."
            url: https://cantine.example.fr/
            category: scolarite
            audience:
              - uai: 0999999Z
        """,
    )
    with pytest.raises(BlueprintError, match="cantine"):
        load(path)
    assert row_counts() == before
    assert not Department.objects.filter(code="21").exists()


def test_the_blueprint_audits_what_it_grants_and_sets(demo):
    """A configuration file is an actor too: the administration it opens, the guardianships it
    links and the passwords it changes each leave an audit row (without the password)."""
    from convergence.accounts import events

    isabelle = User.objects.get(first_name="Isabelle", last_name="Fontaine")
    admin_rows = AuditEvent.objects.of_type(events.ADMINISTRATOR_CHANGED).filter(subject=isabelle)
    assert admin_rows.get().data == {"administrator": True}
    assert AuditEvent.objects.of_type(events.GUARDIANSHIP_CREATED).count() == 2

    lea = User.objects.get(first_name="Léa", last_name="Martin")
    User.objects.filter(pk=lea.pk).update(password="")
    load(DEMO_BLUEPRINT)
    row = AuditEvent.objects.of_type(events.PASSWORD_SET).get(subject=lea)
    assert row.actor is None
    assert row.data == {"reason": "blueprint"}
    assert "Girafe" not in str(row.data)


def test_reloading_an_unchanged_blueprint_audits_nothing(demo):
    before = AuditEvent.objects.count()
    load(DEMO_BLUEPRINT)
    assert AuditEvent.objects.count() == before
