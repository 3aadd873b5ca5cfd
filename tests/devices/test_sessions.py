"""The session engines of "Mes appareils": what a sign-in writes, the index of cache sessions
under concurrent sign-ins, sessions that are gone, and engines that cannot list sessions."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from convergence.accounts.models import User
from convergence.devices.models import DeviceSession
from convergence.devices.sessions import check_session_engine, signed_in_sessions, store
from convergence.devices.sessions.base import DEVICE_KEY
from convergence.devices.sessions.cache import SessionStore as CacheSessionStore
from convergence.devices.sessions.cache import device_index

DATABASE = "convergence.devices.sessions"
CACHE = "convergence.devices.sessions.cache"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


def sign_in(person: User, *, address: str = "203.0.113.7") -> Client:
    client = Client(HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR=address)
    response = client.post(
        "/connexion/",
        {"login": person.login, "password": person.demo_password},  # type: ignore[attr-defined]
    )
    assert response.status_code == 302, "sign-in failed"
    return client


def writes(captured: CaptureQueriesContext) -> list[str]:
    return [
        " ".join(query["sql"].split()[:3])
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def test_database_sign_in_inserts_one_session_row_with_its_device(pupil, settings):
    settings.SESSION_ENGINE = DATABASE
    Client().get("/connexion/")  # the académie read and cached, as on a warm server
    with CaptureQueriesContext(connection) as captured:
        client = sign_in(pupil)
    session_writes = [sql for sql in writes(captured) if "devices_devicesession" in sql]
    assert session_writes == ['INSERT INTO "devices_devicesession"']
    assert len(writes(captured)) <= 2, writes(captured)  # and the audit row
    row = DeviceSession.objects.get()
    assert row.session_key == client.cookies[settings.SESSION_COOKIE_NAME].value
    assert (row.user, row.ip, row.user_agent) == (pupil, "203.0.113.7", FIREFOX)
    assert row.created_at == row.last_seen_at


def test_cache_sign_in_writes_no_session_row(pupil, settings):
    settings.SESSION_ENGINE = CACHE
    Client().get("/connexion/")
    with CaptureQueriesContext(connection) as captured:
        sign_in(pupil)
    assert len(writes(captured)) <= 1, writes(captured)  # the audit row alone
    assert not DeviceSession.objects.exists()
    [session] = signed_in_sessions(pupil)
    assert (session.ip, session.user_agent) == ("203.0.113.7", FIREFOX)


def _signed_in_store(user: Any, number: int) -> str:
    """What a sign-in leaves in a cache session: the account, its hash and the device."""
    session = CacheSessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "convergence.accounts.backends.AccountBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    now = timezone.now().timestamp()
    session[DEVICE_KEY] = {"ip": f"198.51.100.{number}", "ua": FIREFOX, "since": now, "seen": now}
    session.save()
    assert session.session_key is not None
    return session.session_key


def test_concurrent_cache_sign_ins_of_one_person_lose_no_entry(pupil, settings, run_together):
    """Threads sign the same person in at once, many times: every session stays listed, so
    the person can end each of them."""
    settings.SESSION_ENGINE = CACHE
    threads, rounds = 8, 25
    # Switching threads as often as possible makes a read-modify-write race show at once
    # (with the local-memory cache; Redis applies each HSET whole).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)

    def work(number: int) -> list[str]:
        return [_signed_in_store(pupil, number) for _ in range(rounds)]

    try:
        keys = {key for made in run_together(threads, work) for key in made}
    finally:
        sys.setswitchinterval(interval)

    assert len(keys) == threads * rounds
    assert {session.key for session in signed_in_sessions(pupil)} == keys


@pytest.mark.usefixtures("concurrent_db")
def test_concurrent_sign_ins_through_the_portal_are_all_listed(pupil, settings, run_together):
    settings.SESSION_ENGINE = CACHE
    clients = run_together(6, lambda number: sign_in(pupil, address=f"198.51.100.{number}"))
    keys = {client.cookies[settings.SESSION_COOKIE_NAME].value for client in clients}
    assert len(keys) == 6
    assert {session.key for session in signed_in_sessions(pupil)} == keys


def test_cache_listing_drops_the_entries_whose_session_is_gone(pupil, settings):
    settings.SESSION_ENGINE = CACHE
    computer, phone = sign_in(pupil), sign_in(pupil, address="198.51.100.9")
    evicted = phone.cookies[settings.SESSION_COOKIE_NAME].value
    caches[settings.SESSION_CACHE_ALIAS].delete(CacheSessionStore.cache_key_prefix + evicted)

    [left] = signed_in_sessions(pupil)

    assert left.key == computer.cookies[settings.SESSION_COOKIE_NAME].value
    index = device_index(caches[settings.SESSION_CACHE_ALIAS])
    assert set(index.entries(str(pupil.pk))) == {left.key}


def test_signing_out_takes_the_session_out_of_the_cache_index(pupil, settings):
    settings.SESSION_ENGINE = CACHE
    computer = sign_in(pupil)
    computer.post("/deconnexion/")
    assert signed_in_sessions(pupil) == []
    assert device_index(caches[settings.SESSION_CACHE_ALIAS]).entries(str(pupil.pk)) == {}


@pytest.mark.parametrize("engine", [DATABASE, CACHE])
def test_changing_the_password_keeps_this_device_and_hides_the_others(pupil, settings, engine):
    settings.SESSION_ENGINE = engine
    computer, phone = sign_in(pupil), sign_in(pupil, address="198.51.100.9")
    [before] = [s for s in signed_in_sessions(pupil) if s.ip == "203.0.113.7"]
    new_password = "Comte-de-Bourgogne-1289"

    response = computer.post(
        "/compte/mot-de-passe/",
        {"oldpassword": pupil.demo_password, "password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302, response

    pupil.refresh_from_db()
    [after] = signed_in_sessions(pupil)
    assert after.key == computer.cookies[settings.SESSION_COOKIE_NAME].value != before.key
    assert (after.ip, after.created_at) == (before.ip, before.created_at)
    assert phone.get("/compte/").status_code == 302


def test_a_cache_session_from_before_the_upgrade_is_listed_at_its_next_request(pupil, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"  # the engine before
    legacy = Client(HTTP_USER_AGENT=FIREFOX)
    legacy.force_login(pupil)
    key = legacy.cookies[settings.SESSION_COOKIE_NAME].value
    sessions_cache = caches[settings.SESSION_CACHE_ALIAS]
    data = sessions_cache.get(CacheSessionStore.cache_key_prefix + key)
    del data[DEVICE_KEY]  # the previous release recorded no device in the session
    sessions_cache.set(CacheSessionStore.cache_key_prefix + key, data, 3600)
    settings.SESSION_ENGINE = CACHE
    assert signed_in_sessions(pupil) == []

    assert legacy.get("/compte/").status_code == 200

    [listed] = signed_in_sessions(pupil)
    assert (listed.key, listed.user_agent) == (key, FIREFOX)


def test_an_engine_that_cannot_list_sessions_is_refused(settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    with pytest.raises(ImproperlyConfigured):
        store()
    assert [error.id for error in check_session_engine()] == ["devices.E001"]


def test_cache_sessions_on_a_cache_without_atomic_changes_are_refused_at_start(settings):
    settings.SESSION_ENGINE = CACHE
    settings.CACHES = {
        **settings.CACHES,
        "sessions": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "x"},
    }
    settings.SESSION_CACHE_ALIAS = "sessions"
    assert [error.id for error in check_session_engine()] == ["devices.E001"]
    settings.SESSION_CACHE_ALIAS = "default"
    assert check_session_engine() == []


def test_cache_sessions_refuse_a_cache_without_atomic_changes():
    with pytest.raises(ImproperlyConfigured):
        device_index(DatabaseCache("devices_cache", {}))
