"""Sending limits in the webmail and at the portal: a hijacked pupil account writing to 500
people is stopped at the limit (the message kept as a draft, the DSI alerted, an audit entry);
the DSI suspends an account or a whole establishment and lifts it; the counter is atomic and
fails closed. The webmail writes through the demo's embedded servers (aiosmtpd submission,
which asks the same limits as Postfix's policy service; tests/mail/test_policy.py)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail as django_mail
from django.db import OperationalError
from django.urls import reverse
from imapclient import IMAPClient

from convergence.accounts.mailing import contact_address
from convergence.audit.models import AuditEvent
from convergence.core.models import Establishment
from convergence.mail import connections, events, limits, mailbox
from convergence.mail.limits_actions import lift_suspension, suspend_sending
from convergence.mail.models import SendingCount, SendingSuspension
from convergence.sso.actions import issue_first_party_token
from demo.mail.servers import MailServers
from demo.mail.submission import CATCH_ALL
from tests.helpers import client_of, text_of

DOMAIN = "ac-besancon.fr"
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SECURITY = "securite-si@ac-besancon.fr"


@pytest.fixture
def alerts(settings: Any) -> None:
    """Tasks run at once (the DSI's alert reaches the outbox within the request)."""
    settings.TASKS = IMMEDIATE_TASKS
    settings.SECURITY_ALERT_EMAILS = [SECURITY]


@pytest.fixture
def servers(demo_mail_servers: MailServers) -> MailServers:
    return demo_mail_servers


def _drafts_subjects(servers: MailServers, person: Any) -> list[str]:
    """The subjects in the person's Drafts, read through the webmail's own adapter."""
    with connections.session(person) as connection:
        drafts = mailbox.ensure_special_folder(connection, "\\Drafts")
    token, _ = issue_first_party_token(
        user=person, client_id="tests", name="Tests", scope="mail", seconds=600
    )
    with IMAPClient("127.0.0.1", port=servers.ports.imap, ssl=False, timeout=10) as client:
        client.oauth2_login(person.login, token)
        client.select_folder(drafts, readonly=True)
        fetched = client.fetch(client.search(["ALL"]), ["ENVELOPE"])
    return [data[b"ENVELOPE"].subject.decode() for data in fetched.values()]


def _delivered_to_catch_all(servers: MailServers) -> int:
    folder = servers.base_dir / CATCH_ALL / "new"
    return len(list(folder.iterdir())) if folder.exists() else 0


def _with_address(person: Any) -> Any:
    """The demo's pupils have no e-mail address in the portal: their académie address."""
    person.email = f"{person.login}@{DOMAIN}"
    person.save(update_fields=["email"])
    return person


def _batch(number: int, size: int = 10) -> str:
    return ", ".join(f"classe{number}-{n}@college-exemple.fr" for n in range(size))


# --- The webmail ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_hijacked_pupil_writing_to_500_people_is_stopped_at_the_limit_in_the_webmail(
    servers: MailServers, pupil: Any, dsi: Any, alerts: None, settings: Any
) -> None:
    settings.MAIL_SEND_PER_HOUR = 100
    browser = client_of(_with_address(pupil))
    answers = [
        browser.post(
            reverse("mail:write"),
            {"a": _batch(number), "objet": f"Menace {number}", "texte": "…", "action": "envoyer"},
        )
        for number in range(50)  # 50 messages of 10: 500 recipients
    ]

    assert [answer.status_code for answer in answers[:3]] == [302, 302, 302]
    assert {answer.status_code for answer in answers[3:]} == {429}
    page = text_of(answers[3])
    assert "Vous avez atteint la limite de 30 destinataires par heure" in page
    assert "Votre message est enregistré dans vos brouillons." in page
    assert _delivered_to_catch_all(servers) == 3
    assert SendingCount.objects.get(user=pupil).recipients == 30
    # Nothing lost: every refused message is in Drafts.
    assert "Menace 3" in _drafts_subjects(servers, pupil)
    # Audited and the DSI alerted, once for the hour (not 47 times).
    reached = AuditEvent.objects.of_type(events.SENDING_LIMIT_REACHED)
    assert reached.count() == 1
    assert reached.get().subject == pupil
    assert reached.get().data["attempted"] == 10
    sent_alerts = [m for m in django_mail.outbox if "Limite d'envoi" in m.subject]
    # One message per address (the outbox never shows recipients to each other).
    assert sorted(address for m in sent_alerts for address in m.to) == sorted(
        [SECURITY, contact_address(dsi)]
    )
    alert = sent_alerts[0]
    assert pupil.login in alert.subject
    assert "/messagerie/envois/" in alert.body
    assert "30 destinataires par heure" in alert.body


@pytest.mark.django_db(transaction=True)
def test_suspended_pupil_sees_why_in_compose_and_her_message_is_kept_as_a_draft(
    servers: MailServers, pupil: Any, dsi: Any
) -> None:
    response = client_of(dsi).post(
        reverse("mail_limits:suspend"),
        {"cible": "compte", "identifiant": pupil.login, "motif": "Compte probablement piraté"},
    )
    assert response.status_code == 302
    browser = client_of(_with_address(pupil))

    page = text_of(browser.get(reverse("mail:write")))
    sent = browser.post(
        reverse("mail:write"),
        {"a": "prof@college-exemple.fr", "objet": "Devoir", "texte": "…", "action": "envoyer"},
    )

    assert "L'envoi de messages est suspendu pour votre compte" in page
    assert "Compte probablement piraté" in page
    assert sent.status_code == 403
    assert "Votre message est enregistré dans vos brouillons." in text_of(sent)
    assert _delivered_to_catch_all(servers) == 0
    assert "Devoir" in _drafts_subjects(servers, pupil)

    suspension = SendingSuspension.objects.in_force().get(user=pupil)
    client_of(dsi).post(reverse("mail_limits:lift", args=[suspension.pk]))
    again = browser.post(
        reverse("mail:write"),
        {"a": "prof@college-exemple.fr", "objet": "Devoir", "texte": "…", "action": "envoyer"},
    )
    assert again.status_code == 302
    assert _delivered_to_catch_all(servers) == 1


# --- The DSI's page ---------------------------------------------------------------------------


def test_only_the_dsi_sees_the_sending_page(db: None, dsi: Any, teacher: Any) -> None:
    assert client_of(dsi).get(reverse("mail_limits:index")).status_code == 200
    assert client_of(teacher).get(reverse("mail_limits:index")).status_code == 403
    refused = client_of(teacher).post(
        reverse("mail_limits:suspend"),
        {"cible": "etablissement", "identifiant": "0250013D", "motif": "x"},
    )
    assert refused.status_code == 403
    assert not SendingSuspension.objects.exists()


def test_dsi_suspends_a_whole_establishment_and_lifts_it(
    db: None, dsi: Any, pupil: Any, teacher: Any, pupil_in_dole: Any
) -> None:
    browser = client_of(dsi)
    browser.post(
        reverse("mail_limits:suspend"),
        {"cible": "etablissement", "identifiant": "0250013d", "motif": "Menaces envoyées"},
    )

    assert limits.reserve_recipients(pupil, 1).kind == limits.SUSPENDED
    assert limits.reserve_recipients(teacher, 1).kind == limits.SUSPENDED
    assert "Collège Victor Hugo" in limits.reserve_recipients(teacher, 1).reason
    assert limits.reserve_recipients(pupil_in_dole, 1).allowed
    page = text_of(browser.get(reverse("mail_limits:index")))
    assert "Menaces envoyées" in page
    suspended = AuditEvent.objects.of_type(events.SENDING_SUSPENDED).get()
    assert suspended.actor == dsi
    assert suspended.data["establishment"] == "0250013D"

    suspension = SendingSuspension.objects.in_force().get()
    browser.post(reverse("mail_limits:lift", args=[suspension.pk]))

    assert limits.reserve_recipients(pupil, 1).allowed
    assert AuditEvent.objects.of_type(events.SENDING_RESUMED).get().actor == dsi


def test_unknown_login_or_uai_is_refused_in_french(db: None, dsi: Any) -> None:
    response = client_of(dsi).post(
        reverse("mail_limits:suspend"),
        {"cible": "etablissement", "identifiant": "0259999Z", "motif": "Essai"},
    )
    assert response.status_code == 400
    assert "Aucun établissement n'a ce code UAI." in text_of(response)


def test_suspending_twice_keeps_one_suspension(db: None, dsi: Any, pupil: Any) -> None:
    first = suspend_sending(acting_user=dsi, user=pupil, reason="Piratage")
    second = suspend_sending(acting_user=dsi, user=pupil, reason="Piratage encore")
    assert first.pk == second.pk
    assert lift_suspension(acting_user=dsi, suspension=first)
    assert not lift_suspension(acting_user=dsi, suspension=first)


# --- The counter ------------------------------------------------------------------------------


def test_staff_have_a_larger_allowance_than_pupils(db: None, pupil: Any, teacher: Any) -> None:
    assert limits.limits_of(pupil) == limits.Limits(30, 100)
    assert limits.limits_of(teacher) == limits.Limits(300, 1000)
    assert not limits.reserve_recipients(pupil, 31).allowed
    assert limits.reserve_recipients(teacher, 31).allowed


def test_a_refused_message_takes_nothing_from_the_allowance(db: None, pupil: Any) -> None:
    assert limits.reserve_recipients(pupil, 25).allowed
    assert not limits.reserve_recipients(pupil, 10).allowed
    assert limits.reserve_recipients(pupil, 5).allowed
    assert SendingCount.objects.get(user=pupil).recipients == 30


def test_the_day_is_the_last_24_hours(db: None, pupil: Any) -> None:
    now = limits.current_hour() + datetime.timedelta(minutes=30)
    for hours_ago in (1, 2, 3):
        assert limits.reserve_recipients(
            pupil, 30, now=now - datetime.timedelta(hours=hours_ago)
        ).allowed
    # 90 in the three hours before: 10 left of the 100 a day, whatever the clock hour.
    refused = limits.reserve_recipients(pupil, 11, now=now)
    assert refused.kind == limits.DAY_LIMIT
    assert "24 heures" in refused.reason
    assert limits.reserve_recipients(pupil, 10, now=now).allowed
    # A day later the oldest hours no longer count.
    assert limits.reserve_recipients(pupil, 30, now=now + datetime.timedelta(hours=23)).allowed


def test_released_recipients_are_given_back(db: None, pupil: Any) -> None:
    verdict = limits.reserve_recipients(pupil, 20)
    limits.release_recipients(pupil, 20, verdict.hour)
    assert SendingCount.objects.get(user=pupil).recipients == 0


def test_two_reservations_at_once_cannot_both_pass_the_limit(
    concurrent_db: None,
    demo: None,
    pupil: Any,
    run_together: Callable[[int, Callable[[int], Any]], list[Any]],
) -> None:
    """Eight parallel messages of 10 recipients each, each thread its own connection: exactly
    three pass the pupil's 30 an hour (PostgreSQL: the row lock and the conditional UPDATE;
    SQLite: BEGIN IMMEDIATE serialises writers)."""
    passed = run_together(8, lambda _n: limits.reserve_recipients(pupil, 10).allowed)
    assert passed.count(True) == 3
    assert SendingCount.objects.get(user=pupil).recipients == 30


def test_the_database_down_refuses(db: None, pupil: Any) -> None:
    def unreachable(self: Any) -> None:
        raise OperationalError("connection refused")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "django.db.backends.base.base.BaseDatabaseWrapper.ensure_connection", unreachable
        )
        verdict = limits.reserve_recipients(pupil, 1)
    assert not verdict.allowed
    assert verdict.kind == limits.UNAVAILABLE
    assert verdict.temporary


def test_establishment_suspension_needs_a_current_role_there(
    db: None, dsi: Any, parent: Any
) -> None:
    college = Establishment.objects.get(uai="0250013D")
    suspend_sending(acting_user=dsi, establishment=college, reason="Menaces")
    # A parent has no académie mailbox: refused either way, never counted.
    assert not limits.reserve_recipients(parent, 1).allowed
    assert not SendingCount.objects.filter(user=parent).exists()
