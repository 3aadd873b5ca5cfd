"""App passwords: made by the person for one device, shown once, stored as a digest, revoked
at will and with the account; checked by the mail server (never by the portal's sign-in),
throttled without locking the owner out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from convergence.accounts.actions import change_account_state
from convergence.accounts.models import AccountState
from convergence.audit.models import AuditEvent
from convergence.mail import actions
from convergence.mail.models import AppPassword, Device
from tests.helpers import client_of, post_sign_in, sign_in_with_totp, text_of
from tests.mail.conftest import ServerClient

CHECK = "/messagerie/serveur/authentification/"


def _check(
    server: ServerClient | None,
    login: str,
    password: str,
    *,
    protocol: str = "imap",
    remote_ip: str = "192.0.2.10",
) -> Any:
    headers = {"HTTP_AUTHORIZATION": server.basic()} if server else {}
    return Client().post(
        CHECK,
        {"login": login, "password": password, "protocol": protocol, "remote_ip": remote_ip},
        **headers,
    )


def _create(person: Any, label: str = "iPhone de test") -> actions.NewAppPassword:
    return actions.create_app_password(user=person, label=label, device=Device.IPHONE)


def test_a_teacher_creates_one_and_sees_it_once(teacher: Any) -> None:
    browser = client_of(teacher)
    response = browser.post(
        reverse("mail:devices"), {"label": "iPhone personnel", "device": "iphone"}
    )
    assert response.status_code == 200
    secret = re.search(r'id="app-password-secret">([a-z0-9-]+)<', response.content.decode())
    assert secret is not None
    assert re.fullmatch(r"([a-z2-9]{5}-){3}[a-z2-9]{5}", secret.group(1))
    assert (
        response["Cache-Control"].startswith("no-store") or "no-store" in response["Cache-Control"]
    )
    stored = AppPassword.objects.get(user=teacher)
    assert secret.group(1) not in stored.digest
    assert stored.digest == actions.digest(secret.group(1))
    # Shown once: the next visit lists the device, never the secret.
    again = text_of(browser.get(reverse("mail:devices")))
    assert "iPhone personnel" in again
    assert secret.group(1) not in again
    assert AuditEvent.objects.filter(
        event_type="mail.app_password_created", subject=teacher
    ).exists()


def test_a_person_with_a_second_factor_must_have_used_it_recently(dsi: Any) -> None:
    browser = client_of(dsi)  # signed in without going through the factor
    refused = browser.post(reverse("mail:devices"), {"label": "Poste", "device": "thunderbird"})
    assert refused.status_code == 302
    assert "reauthenticate" in refused["Location"]
    assert not AppPassword.objects.filter(user=dsi).exists()
    proved = Client()
    sign_in_with_totp(proved, dsi)
    made = proved.post(reverse("mail:devices"), {"label": "Poste", "device": "thunderbird"})
    assert made.status_code == 200
    assert AppPassword.objects.filter(user=dsi).count() == 1


def test_a_parent_has_no_mailbox_hence_no_app_password(parent: Any) -> None:
    assert client_of(parent).get(reverse("mail:devices")).status_code == 403


def test_the_number_per_person_is_capped(teacher: Any, settings: Any) -> None:
    settings.MAIL_APP_PASSWORDS_MAX = 2
    _create(teacher, "un")
    _create(teacher, "deux")
    with pytest.raises(actions.AppPasswordError, match="révoquez"):
        _create(teacher, "trois")
    response = client_of(teacher).post(
        reverse("mail:devices"), {"label": "trois", "device": "android"}
    )
    assert "révoquez celui d'un appareil" in text_of(response)


def test_the_mail_server_accepts_it_and_records_its_use(
    teacher: Any, mail_server_client: ServerClient
) -> None:
    made = _create(teacher)
    response = _check(mail_server_client, teacher.login, made.secret.upper().replace("-", " "))
    assert response.status_code == 200
    assert response.json() == {"login": teacher.login}
    used = AppPassword.objects.get(pk=made.app_password.pk)
    assert used.last_used_at is not None
    assert used.last_used_protocol == "imap"
    assert "192.0.2.x" in used.last_used_place


@pytest.mark.parametrize("protocol", ["imap", "smtp"])
def test_every_mail_protocol_may_use_it(
    teacher: Any, mail_server_client: ServerClient, protocol: str
) -> None:
    made = _create(teacher)
    assert (
        _check(mail_server_client, teacher.login, made.secret, protocol=protocol).status_code == 200
    )


def test_it_never_writes_mail_rules(teacher: Any, mail_server_client: ServerClient) -> None:
    """ManageSieve is refused: a forwarding rule written with a stolen phone's password would
    send every incoming message outside (rules are written in the portal only)."""
    made = _create(teacher)
    assert (
        _check(mail_server_client, teacher.login, made.secret, protocol="sieve").status_code == 403
    )


def test_an_unknown_protocol_is_refused(teacher: Any, mail_server_client: ServerClient) -> None:
    made = _create(teacher)
    assert (
        _check(mail_server_client, teacher.login, made.secret, protocol="http").status_code == 403
    )


def test_it_never_opens_the_portal(teacher: Any) -> None:
    made = _create(teacher)
    response = post_sign_in(Client(), teacher.login, made.secret)
    assert response.status_code == 200  # the sign-in form again, with its error
    assert "_auth_user_id" not in response.client.session


def test_only_the_academie_servers_may_ask(teacher: Any, mail_server_client: ServerClient) -> None:
    made = _create(teacher)
    assert _check(None, teacher.login, made.secret).status_code == 401
    wrong = ServerClient(mail_server_client.client_id, "pas-le-bon-secret-du-tout-0123456789")
    assert _check(wrong, teacher.login, made.secret).status_code == 401
    # A relying party of the catalogue (the demo's Arena) holds a secret too, but is not a
    # server of the académie: it may not test people's app passwords.
    arena = ServerClient("arena-demo", "arena-demo-secret-a-ne-pas-utiliser-ailleurs")
    assert _check(arena, teacher.login, made.secret).status_code == 401
    assert Client().get(CHECK).status_code == 405


def test_wrong_revoked_and_other_people_passwords_are_refused_alike(
    teacher: Any, cpe: Any, mail_server_client: ServerClient
) -> None:
    mine = _create(teacher)
    hers = _create(cpe)
    assert _check(mail_server_client, teacher.login, "abcde-fghij-kmnop-qrstu").status_code == 403
    assert _check(mail_server_client, teacher.login, hers.secret).status_code == 403
    assert _check(mail_server_client, "personne-inconnue", mine.secret).status_code == 403
    actions.revoke_app_password(app_password=mine.app_password, actor=teacher)
    refused = _check(mail_server_client, teacher.login, mine.secret)
    assert refused.status_code == 403
    assert refused.json() == {"error": "refused"}
    assert AuditEvent.objects.filter(event_type="mail.app_password_refused").exists()


def test_a_person_revokes_only_their_own(teacher: Any, cpe: Any) -> None:
    hers = _create(cpe)
    response = client_of(teacher).post(reverse("mail:revoke", args=[hers.app_password.pk]))
    assert response.status_code == 404
    assert AppPassword.objects.get(pk=hers.app_password.pk).revoked_at is None
    client_of(cpe).post(reverse("mail:revoke", args=[hers.app_password.pk]))
    assert AppPassword.objects.get(pk=hers.app_password.pk).revoked_at is not None


def test_suspending_the_account_ends_its_mail_access_at_once(
    teacher: Any, dsi: Any, mail_server_client: ServerClient
) -> None:
    made = _create(teacher)
    change_account_state(acting_user=dsi, user=teacher, state=AccountState.SUSPENDED)
    assert _check(mail_server_client, teacher.login, made.secret).status_code == 403
    assert AppPassword.objects.get(pk=made.app_password.pk).revoked_at is not None


def test_a_guesser_is_throttled_without_locking_the_owner_out_even_from_his_address(
    teacher: Any, mail_server_client: ServerClient
) -> None:
    made = _create(teacher)
    statuses = [
        _check(
            mail_server_client, teacher.login, f"wrong-{n}", remote_ip="203.0.113.66"
        ).status_code
        for n in range(actions.FAILURES_PER_LOGIN_AND_ADDRESS + 2)
    ]
    assert statuses[: actions.FAILURES_PER_LOGIN_AND_ADDRESS] == [403] * (
        actions.FAILURES_PER_LOGIN_AND_ADDRESS
    )
    assert statuses[-1] == 429
    # The right password is still accepted from that very address: a pupil behind the school's
    # address cannot lock a teacher's phone out by failing her login on purpose…
    assert (
        _check(mail_server_client, teacher.login, made.secret, remote_ip="203.0.113.66").status_code
        == 200
    )
    # …and her phone, on another network, still reads her mail.
    assert (
        _check(mail_server_client, teacher.login, made.secret, remote_ip="198.51.100.7").status_code
        == 200
    )


def test_a_bot_with_many_addresses_meets_the_per_login_limit(
    teacher: Any, mail_server_client: ServerClient, settings: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(actions, "FAILURES_PER_LOGIN", 5)
    for n in range(5):
        assert (
            _check(mail_server_client, teacher.login, "x", remote_ip=f"203.0.113.{n}").status_code
            == 403
        )
    assert (
        _check(mail_server_client, teacher.login, "x", remote_ip="203.0.113.99").status_code == 429
    )


def test_past_the_per_login_limit_the_right_password_still_works(
    teacher: Any, mail_server_client: ServerClient, monkeypatch: Any
) -> None:
    """A bot guessing her login from many addresses must not lock her phone out."""
    made = _create(teacher)
    monkeypatch.setattr(actions, "FAILURES_PER_LOGIN", 3)
    for n in range(4):
        _check(mail_server_client, teacher.login, "x", remote_ip=f"203.0.113.{n}")
    assert (
        _check(mail_server_client, teacher.login, "x", remote_ip="203.0.113.50").status_code == 429
    )
    assert (
        _check(mail_server_client, teacher.login, made.secret, remote_ip="198.51.100.7").status_code
        == 200
    )


def test_a_school_nat_full_of_failures_does_not_lock_out_a_right_password(
    teacher: Any, cpe: Any, mail_server_client: ServerClient, monkeypatch: Any
) -> None:
    made = _create(teacher)
    monkeypatch.setattr(actions, "FAILURES_PER_ADDRESS", 2)
    for n in range(3):
        _check(mail_server_client, cpe.login, f"faux-{n}", remote_ip="192.0.2.1")
    assert (
        _check(mail_server_client, teacher.login, made.secret, remote_ip="192.0.2.1").status_code
        == 200
    )


def test_the_address_may_be_typed_instead_of_the_login(
    teacher: Any, mail_server_client: ServerClient
) -> None:
    made = _create(teacher)
    for typed in (teacher.email.upper(), f"{teacher.login}@ac-besancon.fr"):
        response = _check(mail_server_client, typed, made.secret)
        assert response.status_code == 200, typed
        assert response.json() == {"login": teacher.login}


def test_an_app_password_dies_with_the_mailbox(
    teacher: Any, mail_server_client: ServerClient
) -> None:
    from convergence.accounts.models import Assignment

    made = _create(teacher)
    # She left the académie's schools this year (no role any more): no mailbox, no access.
    Assignment.objects.filter(user=teacher).delete()
    assert _check(mail_server_client, teacher.login, made.secret).status_code == 403
