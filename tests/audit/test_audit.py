"""The audit trail: one row per sign-in event, from where and with what, never a secret."""

from __future__ import annotations

import json

import pytest

from convergence.accounts import events as accounts_events
from convergence.audit import events
from convergence.audit.actions import digest_identifier, record_event
from convergence.audit.models import AuditEvent

ADDRESS = "203.0.113.7"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0 test"


def sign_in(client, login, password, **extra):
    return client.post(
        "/connexion/",
        {"login": login, "password": password},
        REMOTE_ADDR=ADDRESS,
        HTTP_USER_AGENT=BROWSER,
        **extra,
    )


def events_of(event_type: events.EventType):
    return list(AuditEvent.objects.of_type(event_type))


def test_successful_sign_in_writes_one_event(client, pupil):
    response = sign_in(client, pupil.login, pupil.demo_password)
    assert response.status_code == 302
    recorded = events_of(accounts_events.LOGIN_SUCCEEDED)
    assert len(recorded) == 1


def test_successful_sign_in_event_names_the_account_address_and_browser(client, pupil):
    sign_in(client, pupil.login, pupil.demo_password)
    (event,) = events_of(accounts_events.LOGIN_SUCCEEDED)
    assert event.subject_id == pupil.pk
    assert event.actor_id == pupil.pk
    assert event.ip_address == ADDRESS
    assert event.user_agent == BROWSER
    assert event.identifier_digest == ""


def test_failed_sign_in_of_a_known_account_writes_login_failed(client, pupil):
    response = sign_in(client, pupil.login, "Pas-Le-Bon-Mot-De-Passe-1")
    assert response.status_code == 200
    assert events_of(accounts_events.LOGIN_SUCCEEDED) == []
    (event,) = events_of(accounts_events.LOGIN_FAILED)
    assert event.subject_id == pupil.pk
    assert event.actor_id is None
    assert event.ip_address == ADDRESS
    assert event.user_agent == BROWSER


def test_failed_sign_in_of_an_unknown_identifier_has_no_subject(client, demo):
    sign_in(client, "inconnu.total", "Pas-Le-Bon-Mot-De-Passe-1")
    (event,) = events_of(accounts_events.LOGIN_FAILED)
    assert event.subject_id is None
    assert event.actor_id is None
    assert event.identifier_digest == digest_identifier("inconnu.total")


def test_unknown_identifier_is_stored_only_as_a_digest(client, demo):
    # People type their password into the identifier field: it must never be stored.
    typed = "Mon-Mot-De-Passe-Secret-2026"
    sign_in(client, typed, "autre chose")
    (event,) = events_of(accounts_events.LOGIN_FAILED)
    for field in AuditEvent._meta.concrete_fields:
        value = getattr(event, field.attname)
        rendered = json.dumps(value) if isinstance(value, dict | list) else str(value)
        assert typed.lower() not in rendered.lower(), field.name
    assert len(event.identifier_digest) == 64


def test_identifier_digest_is_the_same_whatever_the_case(demo):
    assert digest_identifier(" Inconnu.Total ") == digest_identifier("inconnu.total")


def test_sign_out_writes_logout(client, pupil):
    sign_in(client, pupil.login, pupil.demo_password)
    response = client.post("/deconnexion/", REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302
    (event,) = events_of(accounts_events.LOGOUT)
    assert event.subject_id == pupil.pk
    assert event.actor_id == pupil.pk
    assert event.ip_address == ADDRESS


def test_audit_event_cannot_be_updated(pupil):
    event = record_event(event_type=accounts_events.LOGIN_SUCCEEDED, actor=pupil, subject=pupil)
    event.event_type = accounts_events.LOGOUT.code
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    event.refresh_from_db()
    assert event.event_type == accounts_events.LOGIN_SUCCEEDED.code


def test_record_event_refuses_a_password_in_its_data(pupil):
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError, match="password"):
        record_event(
            event_type=accounts_events.PASSWORD_CHANGED,
            subject=pupil,
            data={"password": "Girafe-Orange-Velo-71"},
        )
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("key", ["password1", "oldpassword", "token", "secret", "code"])
def test_record_event_refuses_every_secret_key(pupil, key):
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError, match=key):
        record_event(event_type=accounts_events.PASSWORD_CHANGED, subject=pupil, data={key: "x"})
    assert AuditEvent.objects.count() == before


def test_record_event_without_request_has_no_address(pupil):
    event = record_event(event_type=accounts_events.ACCOUNT_STATE_CHANGED, subject=pupil)
    assert event.ip_address is None
    assert event.user_agent == ""


def test_event_behind_a_trusted_proxy_records_the_client_address(client, pupil, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client.post(
        "/connexion/",
        {"login": pupil.login, "password": pupil.demo_password},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.20, 192.0.2.99",
    )
    (event,) = events_of(accounts_events.LOGIN_SUCCEEDED)
    assert event.ip_address == "192.0.2.99"


def test_forwarded_address_is_ignored_without_a_trusted_proxy(client, pupil):
    client.post(
        "/connexion/",
        {"login": pupil.login, "password": pupil.demo_password},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="192.0.2.99",
    )
    (event,) = events_of(accounts_events.LOGIN_SUCCEEDED)
    assert event.ip_address == "10.0.0.1"


def test_event_label_is_french(pupil):
    event = record_event(event_type=accounts_events.LOGIN_FAILED, subject=pupil)
    assert event.label == "Échec de connexion"
