"""The public form's code limits, each with the situation it is sized for: parents of one
school writing from its single address are served; a bot spraying mailboxes, or hammering
one mailbox, is stopped (``support.email_codes``)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from convergence.support import email_codes
from convergence.support.models import Ticket

URL = "/assistance/demandes/sans-compte/"
SCHOOL = "192.0.2.10"  # one address for a whole school or town hall


def _ask(client: Client, email: str, ip: str = SCHOOL) -> int:
    return client.post(URL, {"step": "email", "email": email}, REMOTE_ADDR=ip).status_code


def _code() -> str:
    match = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert match
    return match[1]


@pytest.mark.django_db
def test_thirty_parents_behind_one_school_address_each_get_their_code_and_open_a_ticket(demo):
    for number in range(30):
        parent = Client()
        email = f"parent{number}@exemple.fr"
        assert _ask(parent, email) == 200
        answer = parent.post(
            URL,
            {
                "step": "ticket",
                "profile": "parent",
                "category": "connexion",
                "description": "Je n'arrive pas à me connecter.",
                "code": _code(),
            },
            REMOTE_ADDR=SCHOOL,
        )
        assert answer.status_code == 200
    assert Ticket.objects.filter(requester_email__startswith="parent").count() == 30


@pytest.mark.django_db
def test_a_bot_asking_codes_for_many_mailboxes_from_one_address_is_stopped(demo):
    bot = Client()
    sent = [
        _ask(bot, f"victime{number}@exemple.fr")
        for number in range(email_codes.MAILBOXES_PER_ADDRESS + 2)
    ]
    assert sent[: email_codes.MAILBOXES_PER_ADDRESS] == [200] * email_codes.MAILBOXES_PER_ADDRESS
    assert sent[-2:] == [429, 429]
    # Another school is not affected by the bot's address.
    assert _ask(Client(), "parent@exemple.fr", ip="198.51.100.7") == 200


@pytest.mark.django_db
def test_one_mailbox_is_not_bombed_from_many_addresses(demo):
    answers = [_ask(Client(), "cible@exemple.fr", ip=f"203.0.113.{n}") for n in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    assert sum(message.to == ["cible@exemple.fr"] for message in mail.outbox) == 3


@pytest.mark.django_db
def test_wrong_codes_from_a_school_do_not_keep_another_parent_from_confirming(demo):
    fields = {"step": "ticket", "profile": "parent", "category": "autre", "description": "x"}
    for number in range(10):
        someone = Client()
        _ask(someone, f"distrait{number}@exemple.fr")
        good = _code()
        for _ in range(email_codes.MAX_ATTEMPTS):
            someone.post(
                URL, {**fields, "code": "000000" if good != "000000" else "1"}, REMOTE_ADDR=SCHOOL
            )
    parent = Client()
    _ask(parent, "attentif@exemple.fr")
    answer = parent.post(URL, {**fields, "code": _code()}, REMOTE_ADDR=SCHOOL)
    assert answer.status_code == 200
    assert Ticket.objects.filter(requester_email="attentif@exemple.fr").exists()


@pytest.mark.django_db
def test_a_bot_with_many_addresses_and_mailboxes_meets_the_academie_wide_cap(demo, monkeypatch):
    monkeypatch.setattr(email_codes, "SENDS_PER_HOUR_ACADEMIE", 5)
    answers = [_ask(Client(), f"relais{n}@exemple.fr", ip=f"203.0.113.{n}") for n in range(1, 8)]
    assert answers == [200] * 5 + [429, 429]


@pytest.mark.django_db
def test_plus_tags_do_not_multiply_one_mailboxs_codes(demo):
    answers = [_ask(Client(), f"cible+{n}@exemple.fr", ip=f"203.0.113.{n}") for n in range(4)]
    assert answers == [200, 200, 200, 429]


@pytest.mark.django_db
def test_a_bot_past_its_limit_spends_nothing_of_a_parents_codes(demo):
    bot = Client()
    for number in range(email_codes.MAILBOXES_PER_ADDRESS):
        _ask(bot, f"victime{number}@exemple.fr")
    for _ in range(5):
        assert _ask(bot, "parent.vise@exemple.fr") == 429
    assert _ask(Client(), "parent.vise@exemple.fr", ip="198.51.100.9") == 200


@pytest.mark.django_db
def test_one_ipv6_subscriber_counts_as_one_client(demo):
    answers = [
        _ask(Client(), f"relais{n}@exemple.fr", ip=f"2001:db8:1:2::{n:x}")
        for n in range(1, email_codes.MAILBOXES_PER_ADDRESS + 3)
    ]
    assert answers[-2:] == [429, 429]
    assert _ask(Client(), "parent@exemple.fr", ip="2001:db8:1:3::1") == 200


@pytest.mark.django_db
def test_guesses_on_one_mailbox_are_bounded_whatever_the_sessions_say(demo, monkeypatch):
    # Parallel requests sharing a session all read the same count of tries: stand for that
    # race by letting the session allow any number of tries.
    monkeypatch.setattr(email_codes, "MAX_ATTEMPTS", 10_000)
    someone = Client()
    _ask(someone, "devine@exemple.fr")
    good = _code()
    fields = {"step": "ticket", "profile": "parent", "category": "autre", "description": "x"}
    bad = "000000" if good != "000000" else "111111"
    for _ in range(email_codes.GUESSES_PER_HOUR):
        assert someone.post(URL, {**fields, "code": bad}, REMOTE_ADDR=SCHOOL).status_code == 400
    refused = someone.post(URL, {**fields, "code": good}, REMOTE_ADDR=SCHOOL)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"]
    assert not Ticket.objects.filter(requester_email="devine@exemple.fr").exists()
