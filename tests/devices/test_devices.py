"""Sessions: "Mes appareils", ending sessions, administrators, deactivation, new-device alert."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from convergence.accounts import actions
from convergence.accounts import events as accounts_events
from convergence.accounts.models import AccountState
from convergence.audit.models import AuditEvent
from convergence.core.links import portal_host
from convergence.core.models import Academie
from convergence.devices import events
from convergence.devices.labels import approximate_place, browser_label, masked_address
from convergence.devices.middleware import seen_key
from convergence.devices.sessions import SignedInSession, signed_in_sessions, store
from tests.helpers import text_of

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
EDGE_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)
CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
FIREFOX_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15"
)


@pytest.fixture(
    autouse=True,
    params=["convergence.devices.sessions", "convergence.devices.sessions.cache"],
    ids=["database", "cache"],
)
def session_engine(request, settings) -> str:
    """Every test runs with both engines of "Mes appareils"."""
    settings.SESSION_ENGINE = request.param
    return str(request.param)


def sessions_of(person) -> list[SignedInSession]:
    return signed_in_sessions(person)


def session_of(person, user_agent: str) -> SignedInSession:
    [session] = [s for s in signed_in_sessions(person) if s.user_agent == user_agent]
    return session


def end_url(session: SignedInSession) -> str:
    return f"/compte/appareils/{session.device_id}/deconnecter/"


def browser(user_agent: str = FIREFOX_WINDOWS, address: str = "203.0.113.7") -> Client:
    return Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)


def sign_in(client: Client, person) -> None:
    response = client.post("/connexion/", {"login": person.login, "password": person.demo_password})
    assert response.status_code == 302, "sign-in failed"


def is_signed_in(client: Client) -> bool:
    """Whether the browser's next request is a signed-in one."""
    return client.get("/compte/").status_code == 200


@pytest.mark.parametrize(
    ("user_agent", "label"),
    [
        (FIREFOX_WINDOWS, "Firefox sur Windows"),
        (SAFARI_IPHONE, "Safari sur iPhone"),
        (CHROME_ANDROID, "Chrome sur Android"),
        (EDGE_WINDOWS, "Edge sur Windows"),
        (SAFARI_MAC, "Safari sur macOS"),
        (CHROME_LINUX, "Chrome sur Linux"),
        (FIREFOX_IOS, "Firefox sur iPhone"),
        ("curl/8.5.0", "Navigateur inconnu"),
        ("", "Navigateur inconnu"),
    ],
)
def test_browser_label_names_browser_and_system_in_french(user_agent, label):
    assert browser_label(user_agent) == label


def test_masked_address_hides_the_last_part():
    assert masked_address("203.0.113.42") == "203.0.113.x"
    assert masked_address("2001:db8:85a3::8a2e:370:7334") == "2001:db8:85a3:…"


def test_place_is_the_academie_network_for_a_trusted_address(demo):
    academie = Academie.current()
    academie.trusted_networks = "10.25.0.0/16"
    academie.save()
    assert approximate_place("10.25.3.4") == "Réseau de l'académie"
    assert approximate_place("203.0.113.42") == "Internet (adresse 203.0.113.x)"
    assert approximate_place(None) == "Lieu inconnu"


def test_devices_page_lists_the_session_with_browser_place_and_this_device(pupil):
    client = browser(FIREFOX_WINDOWS, "203.0.113.7")
    sign_in(client, pupil)
    response = client.get("/compte/appareils/")
    assert response.status_code == 200
    page = text_of(response)
    assert "Firefox sur Windows" in page
    assert "Internet (adresse 203.0.113.x)" in page
    assert "203.0.113.7" not in page
    assert "Cet appareil" in page


def test_devices_page_lists_every_signed_in_browser_of_the_person_only(pupil, parent):
    computer, phone = browser(FIREFOX_WINDOWS), browser(SAFARI_IPHONE, "198.51.100.9")
    sign_in(computer, pupil)
    sign_in(phone, pupil)
    sign_in(browser(CHROME_ANDROID), parent)
    page = text_of(computer.get("/compte/appareils/"))
    assert "Firefox sur Windows" in page
    assert "Safari sur iPhone" in page
    assert "Internet (adresse 198.51.100.x)" in page
    assert "Chrome sur Android" not in page
    assert "Déconnecter l'autre appareil" in page


def test_devices_page_requires_sign_in(demo, client):
    response = client.get("/compte/appareils/")
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")


def test_pupil_ends_the_session_of_another_device(pupil):
    computer, phone = browser(FIREFOX_WINDOWS), browser(SAFARI_IPHONE)
    sign_in(computer, pupil)
    sign_in(phone, pupil)
    phone_session = session_of(pupil, SAFARI_IPHONE)

    response = computer.post(end_url(phone_session))

    assert response.status_code == 302
    assert "La session a été terminée" in text_of(computer.get(response["Location"]))
    assert not is_signed_in(phone)
    assert is_signed_in(computer)
    event = AuditEvent.objects.of_type(events.SESSION_ENDED).get(subject=pupil)
    assert event.actor == pupil
    assert event.data["device"] == "Safari sur iPhone"


def test_ending_a_session_requires_post(pupil):
    computer, phone = browser(FIREFOX_WINDOWS), browser(SAFARI_IPHONE)
    sign_in(computer, pupil)
    sign_in(phone, pupil)
    phone_session = session_of(pupil, SAFARI_IPHONE)
    assert computer.get(end_url(phone_session)).status_code == 405
    assert is_signed_in(phone)


def test_ending_the_current_session_signs_out_here(pupil):
    computer = browser()
    sign_in(computer, pupil)
    [own] = sessions_of(pupil)
    response = computer.post(end_url(own))
    assert response.status_code == 302
    assert not is_signed_in(computer)
    assert store().sessions_of(pupil) == []


def test_pupil_ends_every_other_session_and_keeps_this_one(pupil):
    computer, phone, tablet = browser(), browser(SAFARI_IPHONE), browser(CHROME_ANDROID)
    for each in (computer, phone, tablet):
        sign_in(each, pupil)

    response = computer.post("/compte/appareils/deconnecter-les-autres/")

    assert response.status_code == 302
    assert "2 autres sessions ont été terminées" in text_of(computer.get(response["Location"]))
    assert is_signed_in(computer)
    assert not is_signed_in(phone)
    assert not is_signed_in(tablet)
    assert len(store().sessions_of(pupil)) == 1
    event = AuditEvent.objects.of_type(events.SESSION_ENDED).get(subject=pupil)
    assert event.data == {"scope": "others", "count": 2}


def test_another_persons_session_cannot_be_ended(pupil, parent):
    pupils_browser, parents_browser = browser(), browser(CHROME_ANDROID)
    sign_in(pupils_browser, pupil)
    sign_in(parents_browser, parent)
    [parents_session] = sessions_of(parent)

    response = pupils_browser.post(end_url(parents_session))

    assert response.status_code == 404
    assert is_signed_in(parents_browser)
    assert not AuditEvent.objects.of_type(events.SESSION_ENDED).exists()


def test_a_pupil_without_sessions_has_0_session_ouverte_in_the_singular(pupil, referent, client):
    client.force_login(referent)
    page = text_of(client.get(f"/gestion/comptes/{pupil.pk}/sessions/"))
    assert "a 0 session ouverte." in page
    assert "0 sessions" not in page


def test_referent_ends_a_pupils_sessions_and_her_next_request_is_anonymous(pupil, referent, client):
    phone, computer = browser(SAFARI_IPHONE), browser()
    sign_in(phone, pupil)
    sign_in(computer, pupil)
    client.force_login(referent)  # privileged roles may be asked for a second factor
    page = text_of(client.get(f"/gestion/comptes/{pupil.pk}/sessions/"))
    assert "2 sessions ouvertes" in page

    response = client.post(f"/gestion/comptes/{pupil.pk}/sessions/")

    assert response.status_code == 302
    assert "2 sessions de Léa Martin ont été terminées" in text_of(client.get(response["Location"]))
    assert not is_signed_in(phone)
    assert not is_signed_in(computer)
    assert is_signed_in(client)
    event = AuditEvent.objects.of_type(events.SESSIONS_ENDED_BY_ADMIN).get(subject=pupil)
    assert event.actor == referent
    assert event.data == {"count": 2}


def test_referent_cannot_end_sessions_of_a_pupil_of_another_establishment(
    pupil_in_dole, referent, client
):
    phone = browser(SAFARI_IPHONE)
    sign_in(phone, pupil_in_dole)
    client.force_login(referent)
    assert client.get(f"/gestion/comptes/{pupil_in_dole.pk}/sessions/").status_code == 404
    assert client.post(f"/gestion/comptes/{pupil_in_dole.pk}/sessions/").status_code == 404
    assert is_signed_in(phone)


def test_teacher_cannot_end_someone_elses_sessions(pupil, teacher, client):
    phone = browser(SAFARI_IPHONE)
    sign_in(phone, pupil)
    sign_in(client, teacher)
    assert client.post(f"/gestion/comptes/{pupil.pk}/sessions/").status_code == 403
    assert is_signed_in(phone)


def test_dsi_ends_sessions_from_the_admin(pupil, dsi, client):
    phone = browser(SAFARI_IPHONE)
    sign_in(phone, pupil)
    client.force_login(dsi)

    response = client.post(
        "/administration/accounts/user/",
        {"action": "end_sessions", "_selected_action": [pupil.pk]},
    )

    assert response.status_code == 302
    assert not is_signed_in(phone)
    assert (
        AuditEvent.objects.of_type(events.SESSIONS_ENDED_BY_ADMIN)
        .filter(subject=pupil, actor=dsi)
        .exists()
    )


def test_suspending_an_account_ends_its_sessions(pupil, dsi):
    phone = browser(SAFARI_IPHONE)
    sign_in(phone, pupil)

    actions.change_account_state(acting_user=dsi, user=pupil, state=AccountState.SUSPENDED)

    assert store().sessions_of(pupil) == []
    assert not is_signed_in(phone)
    event = AuditEvent.objects.of_type(events.SESSION_ENDED).get(subject=pupil)
    assert event.data == {"reason": "account_inactive", "count": 1}


def test_a_referents_password_reset_ends_the_pupils_sessions(pupil, referent, client):
    phone = browser(SAFARI_IPHONE)
    sign_in(phone, pupil)
    client.force_login(referent)

    response = client.post(f"/gestion/comptes/{pupil.pk}/mot-de-passe/")

    assert response.status_code == 200
    assert not is_signed_in(phone)
    assert store().sessions_of(pupil) == []
    event = AuditEvent.objects.of_type(accounts_events.PASSWORD_RESET_BY_REFERENT).get(
        subject=pupil
    )
    assert event.data == {"sessions_ended": 1}


def new_device_mails(mailoutbox) -> list:
    return [mail for mail in mailoutbox if "Nouvelle connexion" in mail.subject]


def test_new_device_mail_is_sent_once_then_not_with_the_device_cookie(
    parent, mailoutbox, django_capture_on_commit_callbacks, immediate_tasks
):
    with django_capture_on_commit_callbacks(execute=True):
        sign_in(browser(), parent)  # the account's first sign-in: nothing to compare with
    assert new_device_mails(mailoutbox) == []

    phone = browser(SAFARI_IPHONE, "198.51.100.9")
    with django_capture_on_commit_callbacks(execute=True):
        sign_in(phone, parent)
    [mail] = new_device_mails(mailoutbox)
    assert mail.to == [parent.email]
    assert "Safari sur iPhone" in mail.body
    assert "Internet (adresse 198.51.100.x)" in mail.body
    assert "198.51.100.9" not in mail.body
    assert f"://{portal_host()}/compte/appareils/" in mail.body  # the official host's link
    assert "&#x27;" not in mail.body  # plain text, not HTML-escaped
    event = AuditEvent.objects.of_type(events.NEW_DEVICE).get(subject=parent)
    assert event.data["device"] == "Safari sur iPhone"

    phone.post("/deconnexion/")
    with django_capture_on_commit_callbacks(execute=True):
        sign_in(phone, parent)  # the phone now holds the account's device cookie
    assert len(new_device_mails(mailoutbox)) == 1
    assert AuditEvent.objects.of_type(events.NEW_DEVICE).count() == 1


def test_new_device_alert_does_not_block_sign_in_when_mail_is_down(
    parent, settings, django_capture_on_commit_callbacks
):
    sign_in(browser(), parent)
    # A real SMTP connection to a closed local port: the mail server is down.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    phone = browser(SAFARI_IPHONE)
    with django_capture_on_commit_callbacks(execute=True):
        sign_in(phone, parent)
    assert is_signed_in(phone)
    assert AuditEvent.objects.of_type(events.NEW_DEVICE).filter(subject=parent).exists()


def session_writes(captured: CaptureQueriesContext) -> list[str]:
    """The INSERT and UPDATE statements of session rows."""
    return [
        query["sql"]
        for query in captured.captured_queries
        if "devices_devicesession" in query["sql"]
        and query["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]


def test_activity_is_recorded_at_most_once_per_interval(pupil, session_engine):
    computer = browser()
    sign_in(computer, pupil)
    [session] = sessions_of(pupil)
    signed_in_at = session.last_seen_at

    with CaptureQueriesContext(connection) as captured:
        computer.get("/compte/")  # first request after sign-in: recorded
    [session] = sessions_of(pupil)
    assert session.last_seen_at > signed_in_at
    assert session.created_at == signed_in_at
    # One save of the session: one UPDATE of its row, or none with cache sessions.
    assert len(session_writes(captured)) == (0 if session_engine.endswith(".cache") else 1)

    with CaptureQueriesContext(connection) as captured:
        computer.get("/compte/")  # within the interval: nothing written
    assert session_writes(captured) == []
    assert sessions_of(pupil)[0].last_seen_at == session.last_seen_at

    cache.delete(seen_key(session.key))  # the interval has passed
    computer.get("/compte/", REMOTE_ADDR="198.51.100.20")
    [later] = sessions_of(pupil)
    assert later.last_seen_at > session.last_seen_at
    assert later.ip == "198.51.100.20"
    assert later.created_at == signed_in_at


def test_sign_in_records_the_session_under_the_key_the_browser_holds(pupil, settings):
    computer = browser(SAFARI_IPHONE, "198.51.100.9")
    sign_in(computer, pupil)
    cookie = computer.cookies[settings.SESSION_COOKIE_NAME].value
    [session] = sessions_of(pupil)
    assert session.key == cookie
    assert (session.ip, session.user_agent) == ("198.51.100.9", SAFARI_IPHONE)


def test_devices_page_query_count_does_not_grow_with_sessions(pupil, django_assert_max_num_queries):
    computer = browser()
    sign_in(computer, pupil)
    for user_agent in (SAFARI_IPHONE, CHROME_ANDROID, EDGE_WINDOWS):
        sign_in(browser(user_agent), pupil)
    computer.get("/compte/appareils/")
    # The session, the person, and at most one query for all their sessions.
    with django_assert_max_num_queries(3):
        assert computer.get("/compte/appareils/").status_code == 200


def test_the_new_device_alert_waits_in_the_task_queue_not_in_the_sign_in(
    parent, mailoutbox, django_capture_on_commit_callbacks
):
    """The sign-in queues the message; the worker sends it (a slow mail server holds no
    sign-in)."""
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        sign_in(browser(), parent)
    phone = browser(SAFARI_IPHONE, "198.51.100.9")
    with django_capture_on_commit_callbacks(execute=True):
        sign_in(phone, parent)
    assert new_device_mails(mailoutbox) == []
    [queued] = DBTaskResult.objects.filter(task_path__endswith="send_new_device_alert")
    assert queued.args_kwargs["kwargs"]["user_pk"] == parent.pk
