"""The support pages: whom to contact, with their live opening state."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from convergence.accounts.models import Profile
from convergence.support import contacts as directory
from convergence.support import hours
from convergence.support.hours import (
    Schedule,
    describe_exceptions,
    describe_week,
    state_at,
)
from convergence.support.models import SupportContact


def _rows(found: Iterable[SupportContact], now: Any) -> list[dict[str, Any]]:
    today = now.astimezone(hours.PARIS).date()
    rows = []
    for contact in found:
        schedule = Schedule.of(contact)
        rows.append(
            {
                "contact": contact,
                "state": state_at(schedule, now),
                "week": describe_week(schedule),
                "exceptions": describe_exceptions(schedule, today),
            }
        )
    return rows


def contacts(request: HttpRequest) -> HttpResponse:
    """A signed-in person's contacts (by their roles and departments this school year), with
    the référents of their établissements by name; everyone's, by profile, otherwise."""
    now = hours.now()
    if request.user.is_authenticated:
        audience = directory.audience_of(request.user)
        found = directory.contacts_for(audience)
        referents = (
            directory.referents_at(audience.establishment_ids, besides=request.user)
            if any(contact.shows_referents for contact in found)
            else []
        )
        return render(
            request,
            "support/contacts.html",
            {"rows": _rows(found, now), "referents": referents, "groups": None},
        )
    every = directory.all_contacts()
    # ``?profil=`` (from the troubleshooter's contact endings) keeps only that profile's.
    asked = request.GET.get("profil", "")
    groups = [
        (label, _rows((c for c in every if c.profile == value), now))
        for value, label in Profile.choices
        if asked not in Profile.values or value == asked
    ]
    return render(
        request,
        "support/contacts.html",
        {
            "groups": [(label, rows) for label, rows in groups if rows],
            "referents": [],
            "one_profile": asked in Profile.values,
        },
    )
