"""« Mes données » holds what the portal keeps about a person's mail — address book, app
passwords (never their digest), alerts and phishing reports — and nothing of anyone else's."""

from __future__ import annotations

import json
from typing import Any

import pytest

from convergence.core.personal_data import collect_personal_data
from convergence.mail import actions
from convergence.mail.models import (
    CollectedAddress,
    Contact,
    ContactGroup,
    Device,
    MailAlert,
    PhishingReport,
)

pytestmark = pytest.mark.django_db


def section(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return next(s["entries"] for s in data["sections"] if s["key"] == key)


def test_the_mail_sections_hold_the_persons_own_data(teacher: Any, pupil: Any) -> None:
    contact = Contact.objects.create(owner=teacher, name="Éditions Hatier", address="a@hatier.fr")
    ContactGroup.objects.create(owner=teacher, name="Éditeurs").members.add(contact)
    CollectedAddress.objects.create(owner=teacher, address="parent@example.org")
    Contact.objects.create(owner=pupil, name="Someone else's", address="b@example.org")
    created = actions.create_app_password(user=teacher, label="Mon iPhone", device=Device.IPHONE)
    MailAlert.objects.create(user=teacher, sender="Philippe Girard", subject="Conseil")
    PhishingReport.objects.create(
        reporter=teacher, sender_address="x@evil.example", sender_domain="evil.example"
    )

    data = collect_personal_data(teacher)

    book = section(data, "mail_address_book")
    assert {"Nom": "Éditions Hatier", "Groupes": "Éditeurs"}.items() <= book[0].items()
    assert any(entry.get("Adresse récemment utilisée") == "parent@example.org" for entry in book)
    assert len(book) == 2
    passwords = section(data, "mail_app_passwords")
    assert [entry["Appareil"] for entry in passwords] == ["Mon iPhone"]
    exported = json.dumps(data, default=str)
    assert created.app_password.digest not in exported and created.secret not in exported
    alerts = section(data, "mail_alerts")
    assert {entry.get("Alerte d'une règle") for entry in alerts} >= {"Conseil"}
    assert any(entry.get("Expéditeur") == "x@evil.example" for entry in alerts)
