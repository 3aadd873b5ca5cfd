"""Reads about tickets: the team a request is routed to, the requester's context, the
support hours a team's delays are counted in, and the SLA state shown to agents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext

from convergence.support import hours
from convergence.support.hours import Schedule
from convergence.support.models import RoutingRule, Status, Team, Ticket

# Counted in when a team names no contact: jours ouvrés, 8 h 30 to 17 h 30.
_WORKDAY = ((dt.time(8, 30), dt.time(17, 30)),)
DEFAULT_SCHEDULE = Schedule(weekly=(_WORKDAY,) * 5 + ((), ()))
REOPEN_DAYS = 7


def team_for(
    *, profiles: Iterable[str], roles: Iterable[str], department_ids: Iterable[int]
) -> Team | None:
    """The team of the most precise rule matching (a role before a profile alone, a
    department before every department; the oldest rule on a tie); None if none does."""
    profiles, roles, departments = set(profiles), set(roles), set(department_ids)
    best: tuple[int, int] | None = None
    chosen: Team | None = None
    for rule in RoutingRule.objects.select_related("team").order_by("pk"):
        if rule.profile not in profiles or (rule.role and rule.role not in roles):
            continue
        if rule.department_id is not None and rule.department_id not in departments:
            continue
        score = (2 if rule.role else 0) + (1 if rule.department_id is not None else 0)
        if best is None or score > best[0]:
            best, chosen = (score, rule.pk), rule.team
    return chosen


def schedule_of(team: Team | None) -> Schedule:
    """The hours a team's delays are counted in (its contact's, else jours ouvrés)."""
    if team is None or team.contact is None:
        return DEFAULT_SCHEDULE
    return Schedule.of(team.contact)


@dataclass(frozen=True)
class Sla:
    label: str
    late: bool


def sla_of(ticket: Ticket, now: dt.datetime) -> Sla | None:
    """What agents are told of a ticket's delays; None once resolved or closed."""
    if not ticket.is_open:
        return None
    if ticket.first_answered_at is None and ticket.first_answer_due is not None:
        due, late = ticket.first_answer_due, ticket.first_answer_due < now
        if late:
            return Sla(gettext("En retard : première réponse attendue"), True)
        return Sla(
            gettext("Première réponse attendue avant %(when)s")
            % {"when": hours.moment_label(due, now)},
            False,
        )
    if ticket.resolution_due is not None:
        if ticket.resolution_due < now:
            return Sla(gettext("En retard : résolution attendue"), True)
        return Sla(
            gettext("Résolution attendue avant %(when)s")
            % {"when": hours.moment_label(ticket.resolution_due, now)},
            False,
        )
    return None


def may_reopen(ticket: Ticket, now: dt.datetime) -> bool:
    """A resolved ticket may be reopened by its requester within ``REOPEN_DAYS``."""
    return (
        ticket.status == Status.RESOLVED
        and ticket.resolved_at is not None
        and now - ticket.resolved_at <= dt.timedelta(days=REOPEN_DAYS)
    )
