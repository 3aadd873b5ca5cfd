"""The ``support_contacts`` section of a blueprint, loaded idempotently."""

from __future__ import annotations

import datetime as dt

import pytest

from convergence.core.blueprints import BlueprintError, apply
from convergence.support.models import OpeningException, OpeningHours, SupportContact
from tests.conftest import demo_blueprint


def snapshot() -> list[tuple]:
    return [
        (
            contact.pk,
            contact.name,
            contact.department_id,
            sorted((h.weekday, h.opens, h.closes) for h in contact.hours.all()),
            sorted((e.first_day, e.opens, e.closes) for e in contact.exceptions.all()),
        )
        for contact in SupportContact.objects.prefetch_related("hours", "exceptions")
    ]


def test_the_demo_contacts_follow_the_issue(demo):
    referent = SupportContact.objects.get(slug="referent-numerique")
    assert (referent.profile, referent.role, referent.shows_referents) == (
        "personnel",
        "enseignant",
        True,
    )
    assert {(h.weekday, h.opens, h.closes) for h in referent.hours.all()} == {
        (day, dt.time(8), dt.time(18)) for day in range(5)
    }
    dsi = SupportContact.objects.get(slug="support-dsi")
    assert {(h.opens, h.closes) for h in dsi.hours.all()} == {(dt.time(8, 30), dt.time(17, 30))}
    assert dsi.exceptions.get(first_day=dt.date(2026, 12, 24)).closes == dt.time(12)
    doubs = SupportContact.objects.get(slug="assistance-ent-doubs")
    jura = SupportContact.objects.get(slug="assistance-ent-jura")
    assert doubs.department.code == "25" and jura.department.code == "39"
    # A day named on its own replaces the week's hours.
    assert [(h.opens, h.closes) for h in doubs.hours.filter(weekday=2)] == [
        (dt.time(8, 30), dt.time(12))
    ]
    assert snapshot_hours(doubs) != snapshot_hours(jura)


def snapshot_hours(contact: SupportContact) -> list[tuple]:
    return sorted((h.weekday, h.opens, h.closes) for h in contact.hours.all())


def test_loading_the_demo_twice_changes_nothing(demo):
    before = snapshot()
    report = apply({"support_contacts": demo_blueprint()["support_contacts"]})
    assert report.created.get("support_contacts", 0) == 0
    assert report.updated["support_contacts"] == len(before)
    assert snapshot() == before
    assert OpeningHours.objects.count() == sum(len(row[3]) for row in before)
    assert OpeningException.objects.count() == sum(len(row[4]) for row in before)


def test_a_blueprint_replaces_the_hours_of_a_contact(demo):
    item = {
        "slug": "support-dsi",
        "name": "Support DSI académique",
        "profile": "personnel",
        "hours": {"weekdays": "9h-12h, 14h-17h"},
        "exceptions": [{"from": "2027-01-04", "to": "2027-01-08", "reason": "inventaire"}],
    }
    apply({"support_contacts": [item]})
    dsi = SupportContact.objects.get(slug="support-dsi")
    assert dsi.hours.count() == 10
    closure = dsi.exceptions.get()
    assert closure.is_closure and closure.last_day == dt.date(2027, 1, 8)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hours": {"weekdays": "18:00-8:00"}}, "ferme avant d'ouvrir"),
        ({"hours": {"lundi": "8:00-12:00"}}, "jour inconnu"),
        ({"department": "75"}, "département inconnu"),
        ({"profile": "visiteur"}, "Contact x"),
    ],
)
def test_a_wrong_contact_is_refused_with_a_french_message(demo, change, message):
    item = {"slug": "x", "name": "X", "profile": "parent", **change}
    with pytest.raises(BlueprintError, match=message):
        apply({"support_contacts": [item]})
    assert not SupportContact.objects.filter(slug="x").exists()
