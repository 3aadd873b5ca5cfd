"""The demo teacher's mail settings, made when the demo's mail servers first start: her
head-of-school rule and vacation reply, written as the portal writes them, act at the demo's
delivery; her address book is filled through the address book's actions; all of it once."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from convergence.mail import sieve
from convergence.mail.models import Contact, ContactGroup
from demo.mail.delivery import Delivery, Notification
from demo.mail.teacher import GROUP, prepare_teacher

pytestmark = pytest.mark.django_db
DOMAIN = "ac-besancon.fr"


def message(sender: str, subject: str, **headers: str) -> bytes:
    built = EmailMessage()
    built["From"] = sender
    built["To"] = f"sophie.bernard@{DOMAIN}"
    built["Subject"] = subject
    built["Message-ID"] = make_msgid(domain="example.org")
    for name, value in headers.items():
        built[name.replace("_", "-")] = value
    built.set_content("Bonjour,\n")
    return built.as_bytes()


def test_the_demo_teacher_gets_her_rule_vacation_and_contacts_once(
    tmp_path: Path, teacher: Any, head_of_school: Any
) -> None:
    assert prepare_teacher(tmp_path, domain=DOMAIN)
    assert not prepare_teacher(tmp_path, domain=DOMAIN)

    script = sieve.parse_script((tmp_path / teacher.login / "dovecot.sieve").read_text())
    assert [rule.name for rule in script.managed.rules] == [
        "Messages de ma direction",
        "Tous les autres messages",
    ]
    assert script.managed.vacation is not None
    assert script.managed.vacation.active_on(timezone.localdate())
    assert Contact.objects.filter(owner=teacher).count() == 4
    assert ContactGroup.objects.get(owner=teacher, name=GROUP).members.count() == 2

    notified: list[Notification] = []
    # The demo server's own directory closes the thread's old connections (it runs in the
    # server's threads): within this test's transaction, a plain mapping stands in for it.
    people = {head_of_school.email: head_of_school.login, teacher.email: teacher.login}
    delivery = Delivery(base_dir=tmp_path, directory=people.get, notifier=notified.append)
    from_head = delivery.deliver(
        teacher.login,
        message(head_of_school.email, "Conseil pédagogique"),
        envelope_sender=head_of_school.email,
    )
    newsletter = delivery.deliver(
        teacher.login,
        message("lettre@editeur.example", "La lettre n° 48", List_Unsubscribe="<mailto:x@y>"),
        envelope_sender="lettre@editeur.example",
    )

    assert from_head.folders == ["INBOX"] and from_head.notified
    assert [item.subject for item in notified] == ["Conseil pédagogique"]
    assert newsletter.folders == ["Autres"]
    # The head of school got the vacation reply; the newsletter did not (a list).
    assert from_head.replied_to == head_of_school.email and not newsletter.replied_to
    replies = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in (tmp_path / head_of_school.login / "new").iterdir()
    ]
    assert [str(reply["Subject"])[:16] for reply in replies] == ["Absente jusqu'au"]
