"""Recovery limits against the attack of issue 9, finding 8: strangers asking for someone's
password or login cannot block her own recovery, and no answer tells that a login and an
e-mail belong to one account."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from convergence.accounts import throttle
from convergence.accounts.models import User
from convergence.audit.models import AuditEvent
from convergence.outbox.models import SmsMessage

from .test_recovery import LEA_PHONE, LEA_RECOVERY, ask_reset, confirm_recovery, main_of

HOME = "192.0.2.10"  # Léa's family's connection
STRANGER = "203.0.113.66"
ELSEWHERE = "198.51.100.20"
# Nothing listens there: the cache holding the counters is down.
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
    }
}


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings: Any) -> None:
    """Mail and SMS go out through the task worker; here it runs inside enqueue."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def lea(pupil: User) -> User:
    return confirm_recovery(pupil, email=LEA_RECOVERY, phone=LEA_PHONE)


def browser(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def answer(response: Any) -> tuple[int, str]:
    return response.status_code, response.headers.get("Location", "")


def ask_login(client: Client, email: str) -> Any:
    return client.post("/identifiant-oublie/", {"email": email})


def her_own_browser(user: User) -> Client:
    """A browser from her home that has signed in to her account before (device cookie)."""
    client = browser(HOME)
    client.cookies[throttle.device_cookie_name()] = throttle.device_cookie_value(user.pk)
    return client


# --- Strangers cannot block her ----------------------------------------------------------


def test_strangers_requests_from_elsewhere_do_not_block_her_own_request(
    lea: User, settings: Any
) -> None:
    settings.RECOVERY_SEND_LIMIT = 10
    stranger = browser(STRANGER)
    for _ in range(5):
        ask_reset(stranger, lea.login)
    assert ask_reset(stranger, lea.login).status_code == 429

    response = ask_reset(browser(HOME), lea.login)

    assert answer(response) == (302, "/mot-de-passe-oublie/envoye/")
    assert mail.outbox[-1].to == [LEA_RECOVERY]


def test_strangers_requests_do_not_block_her_forgotten_login(parent: User, settings: Any) -> None:
    settings.RECOVERY_SEND_LIMIT = 10
    stranger = browser(STRANGER)
    for _ in range(5):
        ask_login(stranger, parent.email)

    response = ask_login(browser(HOME), parent.email)

    assert answer(response) == (302, "/identifiant-oublie/envoye/")
    assert len(mail.outbox) == 6


# --- No answer links a login to an e-mail ------------------------------------------------


def test_login_then_email_of_one_account_answer_like_two_accounts(
    parent: User, lea: User, teacher: User
) -> None:
    one_account = browser(STRANGER)
    one = [answer(ask_reset(one_account, parent.login)) for _ in range(5)]
    one.append(answer(ask_reset(one_account, parent.email)))
    two_accounts = browser(ELSEWHERE)
    two = [answer(ask_reset(two_accounts, lea.login)) for _ in range(5)]
    two.append(answer(ask_reset(two_accounts, teacher.email)))

    assert one == two == [(302, "/mot-de-passe-oublie/envoye/")] * 6
    assert not AuditEvent.objects.filter(event_type="recovery.throttled").exists()


def test_identifier_limit_answers_alike_for_known_and_unknown_identifiers(
    parent: User, settings: Any
) -> None:
    settings.RECOVERY_IDENTIFIER_LIMIT = 1
    pages = []
    for number, identifier in enumerate([parent.login, parent.email, "personne-inconnue"]):
        client = browser(f"198.51.100.{number + 1}")
        assert ask_reset(client, identifier).status_code == 302
        refused = ask_reset(client, identifier)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
        pages.append(main_of(refused))

    assert pages[0] == pages[1] == pages[2]


def test_flood_from_one_address_is_refused_alike_for_every_identifier_and_audited_once(
    parent: User, lea: User, settings: Any
) -> None:
    settings.RECOVERY_IP_LIMIT = 3
    flood = browser(STRANGER)
    for number in range(3):
        assert ask_reset(flood, f"inconnu{number}").status_code == 302

    refused = [
        ask_reset(flood, lea.login),
        ask_reset(flood, parent.email),
        ask_reset(flood, "personne-inconnue"),
    ]

    assert [response.status_code for response in refused] == [429, 429, 429]
    assert all(int(response.headers["Retry-After"]) > 0 for response in refused)
    assert len({main_of(response) for response in refused}) == 1
    assert AuditEvent.objects.filter(event_type="recovery.throttled").count() == 1
    assert ask_reset(browser(HOME), lea.login).status_code == 302


# --- A silent cap on what is sent --------------------------------------------------------


def test_beyond_the_send_cap_no_mail_goes_and_the_answer_is_the_same(
    lea: User, settings: Any
) -> None:
    settings.RECOVERY_SEND_LIMIT = 2
    clients = [browser(f"198.51.100.{number}") for number in range(1, 4)]
    responses = [ask_reset(client, lea.login) for client in clients]

    assert len(mail.outbox) == 2
    assert len({answer(response) for response in responses}) == 1
    pages = {
        main_of(client.get(response.url))
        for client, response in zip(clients, responses, strict=True)
    }
    assert len(pages) == 1
    capped = AuditEvent.objects.get(event_type="recovery.send_capped")
    assert (capped.subject, capped.data["kind"]) == (lea, "password")


def test_send_cap_counts_sms_and_links_of_one_account_together(lea: User, settings: Any) -> None:
    settings.RECOVERY_SEND_LIMIT = 2
    ask_reset(browser(STRANGER), lea.login)
    ask_reset(browser(ELSEWHERE), lea.login)

    response = ask_reset(browser(HOME), lea.login, "sms")

    assert response.url == "/mot-de-passe-oublie/code/"
    assert not SmsMessage.objects.exists()


def test_capped_request_leaves_the_pending_link_usable(lea: User, settings: Any) -> None:
    settings.RECOVERY_SEND_LIMIT = 1
    ask_reset(browser(HOME), lea.login)
    link = re.search(r"/mot-de-passe-oublie/cle/[^/\s]+/", mail.outbox[0].body)
    assert link

    ask_reset(browser(STRANGER), lea.login)

    client = browser(HOME)
    client.get(link.group(0))
    assert client.get("/mot-de-passe-oublie/nouveau/").status_code == 200


def test_device_cookie_holder_still_gets_her_mail_beyond_the_cap(lea: User) -> None:
    for number in range(5):
        ask_reset(browser(f"203.0.113.{number + 1}"), lea.login)
    assert len(mail.outbox) == 5

    response = ask_reset(her_own_browser(lea), lea.login)

    assert answer(response) == (302, "/mot-de-passe-oublie/envoye/")
    assert len(mail.outbox) == 6
    assert mail.outbox[-1].to == [LEA_RECOVERY]


def test_device_cookie_of_another_account_does_not_lift_the_cap(lea: User, parent: User) -> None:
    for number in range(5):
        ask_reset(browser(f"203.0.113.{number + 1}"), lea.login)

    response = ask_reset(her_own_browser(parent), lea.login)

    assert answer(response) == (302, "/mot-de-passe-oublie/envoye/")
    assert len(mail.outbox) == 5


def test_login_reminders_are_capped_per_mailbox_but_not_for_her_own_browser(
    parent: User, settings: Any
) -> None:
    settings.RECOVERY_SEND_LIMIT = 1
    ask_login(browser(STRANGER), parent.email)
    capped = ask_login(browser(ELSEWHERE), parent.email)
    assert answer(capped) == (302, "/identifiant-oublie/envoye/")
    assert len(mail.outbox) == 1

    ask_login(her_own_browser(parent), parent.email)

    assert len(mail.outbox) == 2


# --- The limiter down: refuse, never let through ------------------------------------------


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/mot-de-passe-oublie/", {"identifier": "lmartin", "channel": "email"}),
        ("/identifiant-oublie/", {"email": "karim.martin@exemple.fr"}),
        ("/activation/", {"identifiant": "hlambert", "code": "AAAA-BBBB-CCCC"}),
    ],
)
def test_unreachable_limiter_answers_503_and_lets_nothing_through(
    demo: None, settings: Any, path: str, data: dict[str, str]
) -> None:
    audited = AuditEvent.objects.count()
    settings.CACHES = UNREACHABLE_REDIS

    response = browser(HOME).post(path, data)

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "CONV-503" in response.content.decode()
    assert mail.outbox == []
    assert AuditEvent.objects.count() == audited
