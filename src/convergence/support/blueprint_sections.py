"""Blueprint section ``support_contacts``: contacts, their weekly hours and exceptions.

Each contact is found by its ``slug``, updated, and its hours and exceptions replaced by the
blueprint's, so loading the same file twice changes nothing. ``hours`` maps ``weekdays``
(Monday to Friday) or a day (``monday`` … ``sunday``) to ranges such as
``"8:00-12:00, 13:30-17:30"``; an exception gives ``from``/``to`` days and ``hours``
(a reduced day) or nothing (closed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError

from convergence.core.blueprints import BlueprintError, LoadReport, time_range
from convergence.core.models import Department
from convergence.support import contacts
from convergence.support.models import OpeningException, OpeningHours, SupportContact

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_ranges(text: str, *, where: str) -> list[tuple[dt.time, dt.time]]:
    """``"8:00-12:00, 13:30-17:30"`` (or ``8h-12h``) as ordered pairs of times."""
    return sorted(
        time_range(part, where=where, backwards="ferme avant d'ouvrir")
        for part in str(text).split(",")
    )


def _day(value: Any, *, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as error:
        raise BlueprintError(f"{where} : date illisible « {value} ».") from error


def _hours(contact: SupportContact, data: dict[str, Any], where: str) -> list[OpeningHours]:
    """A day named on its own replaces what ``weekdays`` gives it."""
    by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
    data = data or {}
    for key in data:
        if key != "weekdays" and key not in DAYS:
            raise BlueprintError(f"{where} : jour inconnu « {key} ».")
    if "weekdays" in data:
        ranges = parse_ranges(data["weekdays"], where=where)
        by_day.update(dict.fromkeys(range(5), ranges))
    for day, name in enumerate(DAYS):
        if name in data:
            by_day[day] = parse_ranges(data[name], where=where) if data[name] else []
    return [
        OpeningHours(contact=contact, weekday=day, opens=opens, closes=closes)
        for day, ranges in sorted(by_day.items())
        for opens, closes in ranges
    ]


def _exceptions(
    contact: SupportContact, data: list[dict[str, Any]], where: str
) -> list[OpeningException]:
    rows = []
    for item in data or []:
        first = _day(item["from"], where=where)
        last = _day(item.get("to", first), where=where)
        if last < first:
            raise BlueprintError(f"{where} : exception du {first} au {last}.")
        ranges = parse_ranges(item["hours"], where=where) if item.get("hours") else []
        if len(ranges) > 2:
            raise BlueprintError(f"{where} : deux plages au plus pour une exception.")
        padded: list[tuple[dt.time | None, dt.time | None]] = [*ranges, (None, None), (None, None)]
        (opens, closes), (again, closes_again) = padded[:2]
        rows.append(
            OpeningException(
                contact=contact,
                first_day=first,
                last_day=last,
                reason=item.get("reason", ""),
                opens=opens,
                closes=closes,
                opens_again=again,
                closes_again=closes_again,
            )
        )
    return rows


def load_support_contacts(data: list[dict[str, Any]], report: LoadReport) -> None:
    """Create or update each contact and replace its hours and exceptions."""
    departments = {d.code: d for d in Department.objects.all()}
    for position, item in enumerate(data or [], start=1):
        slug = item["slug"]
        where = f"Contact {slug}"
        contact = SupportContact.objects.filter(slug=slug).first() or SupportContact(slug=slug)
        created = contact.pk is None
        code = item.get("department")
        if code is not None and str(code) not in departments:
            raise BlueprintError(f"{where} : département inconnu « {code} ».")
        contact.name = item["name"]
        contact.helps_with = item.get("helps_with", "")
        contact.profile = item["profile"]
        contact.role = item.get("role", "")
        contact.department = departments[str(code)] if code is not None else None
        contact.phone = str(item.get("phone", ""))
        contact.email = item.get("email", "")
        contact.url = item.get("url", "")
        contact.shows_referents = bool(item.get("shows_referents", False))
        contact.closed_on_public_holidays = bool(item.get("closed_on_public_holidays", True))
        contact.closed_during_school_holidays = bool(
            item.get("closed_during_school_holidays", False)
        )
        contact.position = int(item.get("position", position * 10))
        try:
            contact.full_clean(validate_unique=False)
        except ValidationError as error:
            raise BlueprintError(f"{where} : {' '.join(error.messages)}") from error
        contact.save()
        hours = _hours(contact, item.get("hours", {}), where)
        exceptions = _exceptions(contact, item.get("exceptions", []), where)
        OpeningHours.objects.filter(contact=contact).delete()
        OpeningHours.objects.bulk_create(hours)
        OpeningException.objects.filter(contact=contact).delete()
        OpeningException.objects.bulk_create(exceptions)
        report.count("support_contacts", created=created)
    contacts.changed()


def load_support_teams(data: list[dict[str, Any]], report: LoadReport) -> None:
    """Create or update each team (by ``slug``) and replace its routing rules and named
    members (people's ``key`` in the same blueprint)."""
    from convergence.support.models import RoutingRule, Team, TeamMembership

    departments = {d.code: d for d in Department.objects.all()}
    people = report.context.get("people", {})
    for item in data or []:
        slug = item["slug"]
        where = f"Équipe {slug}"
        team = Team.objects.filter(slug=slug).first() or Team(slug=slug)
        created = team.pk is None
        team.name = item["name"]
        team.membership = item.get("membership", "")
        if team.membership not in TeamMembership.values:
            raise BlueprintError(f"{where} : membres par rôle inconnus « {team.membership} ».")
        contact_slug = item.get("contact")
        team.contact = None
        if contact_slug:
            team.contact = SupportContact.objects.filter(slug=contact_slug).first()
            if team.contact is None:
                raise BlueprintError(f"{where} : contact inconnu « {contact_slug} ».")
        team.first_answer_hours = int(item.get("first_answer_hours", 8))
        team.resolution_hours = int(item.get("resolution_hours", 40))
        team.save()
        rules = []
        for rule in item.get("rules", []):
            code = rule.get("department")
            if code is not None and str(code) not in departments:
                raise BlueprintError(f"{where} : département inconnu « {code} ».")
            rules.append(
                RoutingRule(
                    team=team,
                    profile=rule["profile"],
                    role=rule.get("role", ""),
                    department=departments[str(code)] if code is not None else None,
                )
            )
        for row in rules:
            try:
                row.full_clean(exclude=["team"])
            except ValidationError as error:
                raise BlueprintError(f"{where} : {' '.join(error.messages)}") from error
        RoutingRule.objects.filter(team=team).delete()
        RoutingRule.objects.bulk_create(rules)
        members = []
        for key in item.get("members", []):
            if key not in people:
                raise BlueprintError(f"{where} : personne inconnue « {key} ».")
            members.append(people[key])
        team.members.set(members)
        report.count("support_teams", created=created)


def load_support_demo_tickets(data: list[dict[str, Any]], report: LoadReport) -> None:
    """Demo tickets: opened by a person (``requester``: a people ``key``) and answered by
    another (``answers``), through the actions; one already opened with the same
    description is left as it is, so loading twice changes nothing."""
    from convergence.core.models import Establishment
    from convergence.support import contacts as directory
    from convergence.support.actions import tickets as actions
    from convergence.support.models import Ticket

    people = report.context.get("people", {})
    for item in data or []:
        requester = people.get(item["requester"])
        if requester is None:
            raise BlueprintError(f"Demande : personne inconnue « {item['requester']} ».")
        if Ticket.objects.filter(requester=requester, description=item["description"]).exists():
            report.count("support_demo_tickets", created=False)
            continue
        establishment = Establishment.objects.filter(uai=item.get("uai", "")).first()
        audience = directory.audience_of(requester)
        ticket = actions.open_ticket(
            acting_user=requester,
            category=item["category"],
            description=item["description"],
            establishment=establishment,
            profiles=audience.profiles,
            roles=audience.roles,
            department_ids=(
                frozenset({establishment.department_id})
                if establishment
                else audience.department_ids
            ),
            context={
                "profiles": sorted(audience.profiles),
                "establishments": [establishment.name] if establishment else [],
                "browser": item.get("browser", ""),
            },
        )
        for answer in item.get("answers", []):
            author = people.get(answer["by"])
            if author is None:
                raise BlueprintError(f"Demande : personne inconnue « {answer['by']} ».")
            actions.reply(acting_user=author, ticket=ticket, body=answer["body"], as_agent=True)
        report.count("support_demo_tickets", created=True)
