"""Support tickets: numbering, routing, who sees what, replies, reopening, the public form
and the agents' queue."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from convergence.audit import events as audit_events
from convergence.audit.models import AuditEvent
from convergence.core.models import Department, Establishment
from convergence.notifications.models import Notification
from convergence.support import events
from convergence.support.actions import tickets as actions
from convergence.support.models import RoutingRule, Status, Team, Ticket
from convergence.support.tickets import team_for
from tests.helpers import text_of

COLLEGE = "0250013D"  # Collège Victor Hugo, Besançon (Doubs): Julien is its référent
LYCEE_DOLE = "0390012B"  # Lycée Charles Nodier, Dole (Jura)


def open_for(person, *, uai=COLLEGE, description="L'ENT ne s'ouvre pas.", **kwargs):
    establishment = Establishment.objects.get(uai=uai)
    return actions.open_ticket(
        acting_user=person,
        category="services",
        description=description,
        establishment=establishment,
        profiles=frozenset({"parent"}),
        roles=frozenset({"parent"}),
        department_ids=frozenset({establishment.department_id}),
        **kwargs,
    )


def test_references_follow_each_other_in_the_year(parent):
    first, second = open_for(parent), open_for(parent)
    assert re.fullmatch(r"AST-\d{4}-\d{6}", first.reference)
    year, number = first.reference.rsplit("-", 1)
    assert second.reference == f"{year}-{int(number) + 1:06d}"


def test_opening_is_audited(parent):
    ticket = open_for(parent)
    row = AuditEvent.objects.of_type(events.TICKET_OPENED).latest("pk")
    assert row.actor == parent
    assert row.data["ticket"] == ticket.reference


def test_a_parent_is_routed_to_the_referents_and_an_agent_to_the_dsi(demo):
    assert team_for(profiles={"parent"}, roles={"parent"}, department_ids=set()).slug == (
        "referents-numeriques"
    )
    dsi_team = team_for(profiles={"personnel"}, roles={"agent"}, department_ids=set())
    assert dsi_team.slug == "support-dsi"
    teacher_team = team_for(profiles={"personnel"}, roles={"enseignant"}, department_ids=set())
    assert teacher_team.slug == "referents-numeriques"


def test_a_rule_naming_the_department_wins(demo):
    jura = Team.objects.create(slug="jura", name="Assistance du Jura")
    RoutingRule.objects.create(
        team=jura, profile="parent", department=Department.objects.get(code="39")
    )
    in_jura = Department.objects.get(code="39").pk
    in_doubs = Department.objects.get(code="25").pk
    assert team_for(profiles={"parent"}, roles=set(), department_ids={in_jura}) == jura
    assert team_for(profiles={"parent"}, roles=set(), department_ids={in_doubs}).slug == (
        "referents-numeriques"
    )


def test_delays_are_set_in_the_teams_opening_hours(parent):
    opened = timezone.make_aware(dt.datetime(2026, 12, 4, 16, 30))  # a Friday, Paris time
    ticket = open_for(parent, now=opened)
    # The référents' contact opens 8:00 to 18:00 on weekdays: 1 h 30 on Friday, 6 h 30 on
    # Monday.
    assert timezone.localtime(ticket.first_answer_due) == timezone.make_aware(
        dt.datetime(2026, 12, 7, 14, 30)
    )


def test_referent_cannot_see_ticket_of_other_establishment(client, parent, referent):
    ticket = open_for(parent, uai=LYCEE_DOLE)
    client.force_login(referent)
    response = client.get(f"/assistance/demandes/{ticket.reference}/")
    assert response.status_code == 404
    refusal = AuditEvent.objects.of_type(audit_events.ACCESS_REFUSED).latest("pk")
    assert refusal.actor == referent
    assert refusal.data["kind"] == "support_ticket"
    assert ticket not in Ticket.objects.agent_of(referent)


def test_referent_sees_tickets_of_his_establishment_and_the_dsi_all(parent, referent, dsi):
    here, there = open_for(parent), open_for(parent, uai=LYCEE_DOLE)
    assert set(Ticket.objects.agent_of(referent)) >= {here}
    assert there not in Ticket.objects.visible_to(referent)
    assert {here, there} <= set(Ticket.objects.visible_to(dsi))


def test_a_stranger_gets_404_on_a_ticket(client, parent, teacher):
    ticket = open_for(parent)
    client.force_login(teacher)
    assert client.get(f"/assistance/demandes/{ticket.reference}/").status_code == 404


def test_requester_never_sees_internal_notes(client, parent, referent):
    ticket = open_for(parent)
    actions.add_internal_note(acting_user=referent, ticket=ticket, body="Parent déjà appelé.")
    actions.reply(
        acting_user=referent, ticket=ticket, body="Pouvez-vous réessayer ?", as_agent=True
    )
    client.force_login(parent)
    page = text_of(client.get(f"/assistance/demandes/{ticket.reference}/"))
    assert "Pouvez-vous réessayer ?" in page
    assert "Parent déjà appelé." not in page
    client.force_login(referent)
    assert "Parent déjà appelé." in text_of(client.get(f"/assistance/demandes/{ticket.reference}/"))


def test_agent_reply_notifies_the_requester(parent, referent, django_capture_on_commit_callbacks):
    """A requester with an account is notified (« Assistance »: the centre, and e-mail or push
    as their preferences say), not e-mailed around their preferences."""
    ticket = open_for(parent)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.reply(acting_user=referent, ticket=ticket, body="C'est réparé.", as_agent=True)
    (told,) = Notification.objects.filter(title__contains=ticket.reference)
    assert told.recipient == parent
    assert told.category == "assistance"
    assert ticket.reference in told.title
    assert "C'est réparé." in told.body
    assert told.url == f"/assistance/demandes/{ticket.reference}/"
    assert mail.outbox == []  # nothing around the notification
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING and ticket.first_answered_at is not None


def test_internal_note_mails_nobody(parent, referent, django_capture_on_commit_callbacks):
    ticket = open_for(parent)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.add_internal_note(acting_user=referent, ticket=ticket, body="À voir.")
    assert mail.outbox == []


def test_agent_replies_through_the_page(client, parent, referent):
    ticket = open_for(parent)
    client.force_login(referent)
    response = client.post(
        f"/assistance/demandes/{ticket.reference}/", {"action": "reply", "body": "Réessayez."}
    )
    assert response.status_code == 302
    assert ticket.messages.get().from_agent


def test_reopening_within_seven_days(parent, referent):
    ticket = open_for(parent)
    resolved = timezone.now() - dt.timedelta(days=6)
    actions.change_status(acting_user=referent, ticket=ticket, status=Status.RESOLVED, now=resolved)
    actions.reopen(acting_user=parent, ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert AuditEvent.objects.of_type(events.TICKET_REOPENED).filter(actor=parent).exists()


def test_no_reopening_after_seven_days(parent, referent):
    ticket = open_for(parent)
    resolved = timezone.now() - dt.timedelta(days=8)
    actions.change_status(acting_user=referent, ticket=ticket, status=Status.RESOLVED, now=resolved)
    with pytest.raises(actions.TicketError):
        actions.reopen(acting_user=parent, ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_rating_after_closing(client, parent, referent):
    ticket = open_for(parent)
    actions.close(acting_user=referent, ticket=ticket)
    client.force_login(parent)
    url = f"/assistance/demandes/{ticket.reference}/"
    assert client.post(url, {"action": "rate", "satisfaction": "5"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.satisfaction == 5


def test_signed_in_parent_opens_a_ticket_with_its_context(client, parent):
    client.force_login(parent)
    form = client.get("/assistance/demandes/nouvelle/")
    assert "Collège Victor Hugo" in text_of(form)
    response = client.post(
        "/assistance/demandes/nouvelle/",
        {
            "category": "connexion",
            "description": "Je ne vois plus les notes de Yanis.",
            "establishment": Establishment.objects.get(uai=LYCEE_DOLE).pk,
        },
        HTTP_USER_AGENT="Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 "
        "Firefox/133.0",
    )
    ticket = Ticket.objects.get(description="Je ne vois plus les notes de Yanis.")
    assert response.status_code == 302
    assert ticket.requester == parent
    assert ticket.establishment.uai == LYCEE_DOLE
    assert ticket.team.slug == "referents-numeriques"
    assert "Firefox" in ticket.context["browser"]
    assert "parent" in ticket.context["profiles"]


def _code_from_outbox() -> str:
    match = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert match
    return match[1]


def test_parent_who_cannot_sign_in_opens_a_ticket_with_a_confirmed_address(client, demo):
    url = "/assistance/demandes/sans-compte/"
    client.post(url, {"step": "email", "email": "karim.martin@exemple.fr"})
    assert mail.outbox[-1].to == ["karim.martin@exemple.fr"]
    fields = {
        "step": "ticket",
        "profile": "parent",
        "category": "connexion",
        "description": "Je n'ai jamais reçu ma lettre d'activation.",
    }
    wrong = client.post(
        url, {**fields, "code": "000000" if _code_from_outbox() != "000000" else "111111"}
    )
    assert wrong.status_code == 400
    assert "Je n'ai jamais reçu ma lettre d'activation.</textarea>" in text_of(wrong)
    response = client.post(url, {**fields, "code": _code_from_outbox()})
    ticket = Ticket.objects.get(requester_email="karim.martin@exemple.fr")
    assert response.status_code == 200
    assert ticket.reference in text_of(response)
    assert ticket.requester is None


def test_the_public_form_answers_alike_with_or_without_an_account(client, demo):
    url = "/assistance/demandes/sans-compte/"
    known = client.post(url, {"step": "email", "email": "karim.martin@exemple.fr"})
    unknown = client.post(url, {"step": "email", "email": "personne@exemple.fr"})

    def strip(response):
        page = text_of(response).replace("karim.martin", "X").replace("personne", "X")
        return re.sub(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+', "", page)

    assert known.status_code == unknown.status_code == 200
    assert strip(known) == strip(unknown)


def test_public_form_codes_are_rate_limited(client, demo):
    url = "/assistance/demandes/sans-compte/"
    answers = [
        client.post(url, {"step": "email", "email": "quelquun@exemple.fr"}).status_code
        for _ in range(4)
    ]
    assert answers == [200, 200, 200, 429]


def test_public_form_refuses_after_five_wrong_codes(client, demo):
    url = "/assistance/demandes/sans-compte/"
    client.post(url, {"step": "email", "email": "quelquun@exemple.fr"})
    good = _code_from_outbox()
    bad = "000000" if good != "000000" else "111111"
    fields = {"step": "ticket", "profile": "parent", "category": "autre", "description": "x"}
    for _ in range(5):
        client.post(url, {**fields, "code": bad})
    assert client.post(url, {**fields, "code": good}).status_code == 400
    assert not Ticket.objects.filter(requester_email="quelquun@exemple.fr").exists()


def test_the_demo_shows_karims_ticket_answered_by_julien(parent, referent):
    ticket = Ticket.objects.get(requester=parent, establishment__uai=COLLEGE)
    answer = ticket.messages.get()
    assert answer.author == referent and answer.from_agent
    assert ticket.status == Status.WAITING


def test_queue_filters_and_counts(client, parent, referent):
    open_for(parent)
    client.force_login(referent)
    page = text_of(client.get("/assistance/demandes/file/?status=nouveau"))
    assert "Nouveau (1)" in page
    assert "En attente de votre réponse (1)" in page  # the demo's answered ticket


def test_queue_is_refused_to_a_parent(client, parent):
    client.force_login(parent)
    assert client.get("/assistance/demandes/file/").status_code == 404


def test_queue_queries_do_not_grow_with_tickets(client, parent, dsi):
    client.force_login(dsi)
    client.get("/assistance/demandes/file/")
    for _ in range(3):
        open_for(parent)
    with CaptureQueriesContext(connection) as few:
        client.get("/assistance/demandes/file/")
    for _ in range(10):
        open_for(parent, uai=LYCEE_DOLE)
    with CaptureQueriesContext(connection) as many:
        client.get("/assistance/demandes/file/")
    assert len(many) == len(few)


@pytest.mark.usefixtures("concurrent_db")
def test_tickets_opened_together_get_distinct_references(run_together):
    def work(_number: int) -> list[str]:
        return [
            actions.open_ticket(
                acting_user=None, email="x@exemple.fr", category="autre", description="x"
            ).reference
            for _ in range(5)
        ]

    references = [ref for refs in run_together(4, work) for ref in refs]
    assert len(set(references)) == 20


def test_agents_see_when_the_first_answer_is_due(client, parent, referent):
    ticket = open_for(parent)
    client.force_login(referent)
    page = text_of(client.get(f"/assistance/demandes/{ticket.reference}/"))
    assert "Première réponse attendue avant" in page or "En retard" in page


def test_the_requester_is_not_shown_the_delays(client, parent):
    ticket = open_for(parent)
    client.force_login(parent)
    page = text_of(client.get(f"/assistance/demandes/{ticket.reference}/"))
    assert "Première réponse attendue" not in page
