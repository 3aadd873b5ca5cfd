"""Sign-in throttling: growing delays per pair, address and account; nobody is locked out.

The clock of the throttle is controlled by replacing ``time.time`` (not our code): attempts
then happen at exact instants and the delays are checked to the second.
"""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client

from convergence.accounts import actions, events, throttle
from convergence.accounts.models import User
from convergence.audit.models import AuditEvent
from tests.conftest import demo_people
from tests.helpers import pass_second_factor, text_of

ATTACKER = "198.51.100.66"
HOME = "203.0.113.10"
SCHOOL = "192.0.2.25"
WRONG = "Pas-Le-Bon-Mot-De-Passe-1"
MISMATCH = "Identifiant ou mot de passe incorrect."


@pytest.fixture
def attacker() -> Client:
    """One browser for the failures of a test (its cookies are cleared between attempts)."""
    return Client()


def attempt(client, login, password, ip=ATTACKER):
    return client.post("/connexion/", {"login": login, "password": password}, REMOTE_ADDR=ip)


def fail(client, login, times, ip=ATTACKER, password=WRONG):
    """Fail ``times`` sign-ins in a row, each one judged (no delay in force)."""
    for _ in range(times):
        response = attempt(client, login, password, ip)
        assert response.status_code == 200, "a failure that should be judged was throttled"
        client.cookies.clear()


def fail_patiently(client, login, times, clock, ip=ATTACKER):
    """Fail ``times`` sign-ins from one address, waiting out each delay before trying again."""
    free = settings.THROTTLE_PAIR_FREE
    for done in range(times):
        clock.advance(throttle.delay_for(done, free))
        fail(client, login, 1, ip)


def fail_from_many_addresses(client, login, count):
    for n in range(count):
        fail(client, login, 1, ip=f"198.51.100.{n + 1}")


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def retry_after(response) -> int:
    return int(response.headers["Retry-After"])


# --- delay_for ----------------------------------------------------------------------------


@pytest.mark.parametrize("failures", [0, 1, 4, 5])
def test_no_delay_within_the_free_failures(failures):
    assert throttle.delay_for(failures, 5) == 0


def test_delay_doubles_with_each_failure_past_the_free_ones():
    assert [throttle.delay_for(n, 5) for n in range(6, 11)] == [1, 2, 4, 8, 16]


def test_delay_is_capped_at_the_maximum(settings):
    settings.THROTTLE_MAX_DELAY_SECONDS = 60
    assert throttle.delay_for(12, 5) == 60
    assert throttle.delay_for(10**9, 0) == 60


def test_default_maximum_delay_is_fifteen_minutes():
    assert throttle.delay_for(10**6, settings.THROTTLE_PAIR_FREE) == 900


# --- per (account, address) pair ----------------------------------------------------------


def test_attempt_after_the_free_failures_is_still_judged(client, pupil, clock, attacker):
    fail(attacker, pupil.login, settings.THROTTLE_PAIR_FREE)
    response = attempt(client, pupil.login, pupil.demo_password)
    assert response.status_code == 302
    assert signed_in(client)


def test_attempt_past_the_free_failures_is_answered_429_even_with_the_right_password(
    client, pupil, clock, attacker
):
    fail(attacker, pupil.login, settings.THROTTLE_PAIR_FREE + 1)
    response = attempt(client, pupil.login, pupil.demo_password)
    assert response.status_code == 429
    assert retry_after(response) >= 1
    assert "Trop de tentatives" in text_of(response)
    assert "votre compte n'est pas bloqué" in text_of(response)
    assert 'href="/aide/erreurs/CONV-429/"' in response.content.decode()
    assert not signed_in(client)


def test_throttled_attempt_is_audited_without_checking_the_password(client, pupil, clock, attacker):
    fail(attacker, pupil.login, settings.THROTTLE_PAIR_FREE + 1)
    failures_before = AuditEvent.objects.of_type(events.LOGIN_FAILED).count()
    attempt(client, pupil.login, pupil.demo_password)
    assert AuditEvent.objects.of_type(events.LOGIN_FAILED).count() == failures_before
    assert not AuditEvent.objects.of_type(events.LOGIN_SUCCEEDED).exists()
    (throttled,) = AuditEvent.objects.of_type(events.LOGIN_THROTTLED)
    assert throttled.subject_id == pupil.pk
    assert throttled.ip_address == ATTACKER
    assert throttled.data["retry_after"] >= 1


def test_throttled_attempts_do_not_lengthen_the_delay(client, pupil, clock, attacker):
    fail(attacker, pupil.login, settings.THROTTLE_PAIR_FREE + 1)
    for _ in range(3):
        assert attempt(attacker, pupil.login, WRONG).status_code == 429
    clock.advance(throttle.delay_for(settings.THROTTLE_PAIR_FREE + 1, settings.THROTTLE_PAIR_FREE))
    assert attempt(client, pupil.login, pupil.demo_password).status_code == 302


def test_right_password_works_once_the_delay_has_passed(client, pupil, clock, attacker):
    fail_patiently(attacker, pupil.login, settings.THROTTLE_PAIR_FREE + 3, clock)
    refused = attempt(client, pupil.login, pupil.demo_password)
    assert refused.status_code == 429
    clock.advance(retry_after(refused))
    response = attempt(client, pupil.login, pupil.demo_password)
    assert response.status_code == 302
    assert signed_in(client)


def test_attempt_just_before_the_delay_ends_is_still_refused(client, pupil, clock, attacker):
    failures = settings.THROTTLE_PAIR_FREE + 3
    fail_patiently(attacker, pupil.login, failures, clock)
    clock.advance(throttle.delay_for(failures, settings.THROTTLE_PAIR_FREE) - 0.5)
    assert attempt(client, pupil.login, pupil.demo_password).status_code == 429


def test_real_user_from_another_address_gets_in_while_the_pair_is_throttled(
    client, pupil, clock, attacker
):
    fail_patiently(attacker, pupil.login, settings.THROTTLE_PAIR_FREE + 3, clock, ip=ATTACKER)
    assert attempt(attacker, pupil.login, pupil.demo_password, ATTACKER).status_code == 429
    response = attempt(client, pupil.login, pupil.demo_password, HOME)
    assert response.status_code == 302
    assert signed_in(client)


def test_failures_by_email_and_by_login_count_for_the_same_account(client, parent, clock, attacker):
    free = settings.THROTTLE_PAIR_FREE
    fail(attacker, parent.email, free // 2 + 1)
    fail(attacker, parent.login, free - free // 2)
    assert attempt(client, parent.login, parent.demo_password).status_code == 429


def test_success_clears_the_pair_counter(client, pupil, clock, attacker):
    free = settings.THROTTLE_PAIR_FREE
    fail(attacker, pupil.login, free)
    assert attempt(client, pupil.login, pupil.demo_password).status_code == 302
    client.post("/deconnexion/", REMOTE_ADDR=ATTACKER)
    fail(attacker, pupil.login, free)
    assert attempt(attacker, pupil.login, pupil.demo_password).status_code == 302


def test_no_permanent_lock_the_delay_never_exceeds_the_maximum(
    client, pupil, clock, settings, attacker
):
    settings.THROTTLE_PAIR_FREE = 1
    settings.THROTTLE_MAX_DELAY_SECONDS = 4
    for _ in range(12):
        clock.advance(settings.THROTTLE_MAX_DELAY_SECONDS)
        fail(attacker, pupil.login, 1)
    refused = attempt(client, pupil.login, pupil.demo_password)
    assert refused.status_code == 429
    assert retry_after(refused) <= settings.THROTTLE_MAX_DELAY_SECONDS + 1
    clock.advance(settings.THROTTLE_MAX_DELAY_SECONDS)
    assert attempt(client, pupil.login, pupil.demo_password).status_code == 302


# --- account-wide counter and the device cookie -------------------------------------------


@pytest.fixture
def low_account_free(settings):
    settings.THROTTLE_ACCOUNT_FREE = 3
    return settings.THROTTLE_ACCOUNT_FREE


def test_failures_spread_over_many_addresses_delay_a_new_address(
    client, pupil, clock, low_account_free, attacker
):
    fail_from_many_addresses(attacker, pupil.login, low_account_free + 1)
    response = attempt(client, pupil.login, pupil.demo_password, SCHOOL)
    assert response.status_code == 429
    assert not signed_in(client)


def test_browser_that_signed_in_before_is_not_delayed_by_the_account_wide_counter(
    client, pupil, clock, low_account_free, attacker
):
    assert attempt(client, pupil.login, pupil.demo_password, HOME).status_code == 302
    client.post("/deconnexion/", REMOTE_ADDR=HOME)
    assert throttle.device_cookie_name() in client.cookies

    fail_from_many_addresses(attacker, pupil.login, low_account_free + 1)
    response = attempt(client, pupil.login, pupil.demo_password, SCHOOL)
    assert response.status_code == 302
    assert signed_in(client)


def test_device_cookie_of_another_account_does_not_exempt(
    client, pupil, parent, clock, low_account_free, attacker
):
    assert attempt(client, parent.login, parent.demo_password, HOME).status_code == 302
    client.post("/deconnexion/", REMOTE_ADDR=HOME)

    fail_from_many_addresses(attacker, pupil.login, low_account_free + 1)
    assert attempt(client, pupil.login, pupil.demo_password, HOME).status_code == 429


def test_forged_device_cookie_does_not_exempt(client, pupil, clock, low_account_free, attacker):
    fail_from_many_addresses(attacker, pupil.login, low_account_free + 1)
    client.cookies[throttle.device_cookie_name()] = signing.dumps(
        {"u": pupil.pk}, salt="another.salt"
    )
    assert attempt(client, pupil.login, pupil.demo_password, HOME).status_code == 429


def test_success_does_not_clear_the_account_wide_counter(
    client, pupil, clock, low_account_free, attacker
):
    # Otherwise an attacker who knows one password could launder an attack on the account.
    fail_from_many_addresses(attacker, pupil.login, low_account_free + 1)
    browser = Client()
    browser.cookies[throttle.device_cookie_name()] = throttle.device_cookie_value(pupil.pk)
    assert attempt(browser, pupil.login, pupil.demo_password, HOME).status_code == 302
    assert attempt(client, pupil.login, pupil.demo_password, SCHOOL).status_code == 429


def test_device_cookie_is_http_only_and_lax(client, pupil):
    response = attempt(client, pupil.login, pupil.demo_password, HOME)
    cookie = response.cookies[throttle.device_cookie_name()]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert throttle.device_is_trusted_for(cookie.value, pupil.pk)


def test_device_cookie_is_not_set_by_a_failure(client, pupil):
    response = attempt(client, pupil.login, WRONG, HOME)
    assert throttle.device_cookie_name() not in response.cookies


@pytest.mark.parametrize("cookie", [None, "", "garbage", "e30:1xXUpS:forged"])
def test_missing_or_invalid_device_cookie_is_not_trusted(cookie):
    assert not throttle.device_is_trusted_for(cookie, 1)


def test_device_cookie_is_trusted_only_for_its_account():
    value = throttle.device_cookie_value(7)
    assert throttle.device_is_trusted_for(value, 7)
    assert not throttle.device_is_trusted_for(value, 8)
    assert not throttle.device_is_trusted_for(value, None)


# --- per-address safety net: one school behind one address -------------------------------


@pytest.fixture
def low_ip_free(settings):
    settings.THROTTLE_IP_DISTINCT_FREE = 3
    return settings.THROTTLE_IP_DISTINCT_FREE


def signed_in_before(browser, user, ip=HOME):
    """``browser`` signs in to ``user`` once (it gets the device cookie), then signs out."""
    assert attempt(browser, user.login, user.demo_password, ip).status_code == 302
    pass_second_factor(browser, user)
    browser.post("/deconnexion/", REMOTE_ADDR=ip)
    assert throttle.device_cookie_name() in browser.cookies


def test_many_identifiers_guessed_from_one_address_delay_its_unknown_browsers(
    client, pupil, clock, low_ip_free, attacker
):
    for n in range(low_ip_free + 1):
        fail(attacker, f"inconnu{n}", 1, ip=SCHOOL)
    response = attempt(client, pupil.login, pupil.demo_password, SCHOOL)
    assert response.status_code == 429
    assert retry_after(response) >= 1


def test_address_net_never_refuses_a_browser_that_knows_the_account(
    client, pupil, clock, low_ip_free, attacker
):
    signed_in_before(client, pupil)
    for n in range(low_ip_free + 1):
        fail(attacker, f"inconnu{n}", 1, ip=SCHOOL)
    assert attempt(Client(), pupil.login, pupil.demo_password, SCHOOL).status_code == 429
    response = attempt(client, pupil.login, pupil.demo_password, SCHOOL)
    assert response.status_code == 302
    assert signed_in(client)


def test_address_delay_does_not_touch_other_addresses(client, pupil, clock, low_ip_free, attacker):
    for n in range(low_ip_free + 1):
        fail(attacker, f"inconnu{n}", 1, ip=SCHOOL)
    assert attempt(client, pupil.login, pupil.demo_password, HOME).status_code == 302


def test_one_account_failing_many_times_counts_once_on_the_address(
    client, pupil, parent, clock, low_ip_free, attacker
):
    # Thirty failures on one pupil from the school's address: one distinct identifier.
    fail_patiently(attacker, pupil.login, 30, clock, ip=SCHOOL)
    assert attempt(client, parent.login, parent.demo_password, SCHOOL).status_code == 302


def test_made_up_logins_from_the_school_address_do_not_stop_other_accounts(demo, clock, attacker):
    # The attack found: ~100 made-up logins from one address turned the whole school away.
    for n in range(150):
        fail(attacker, f"eleve.invente{n}", 1, ip=SCHOOL, password=f"{WRONG}{n}")
    for key in ("lea", "yanis", "karim", "sophie"):
        person = demo_people()[key]
        user = User.objects.get(first_name=person["first_name"], last_name=person["last_name"])
        browser = Client()
        response = attempt(browser, user.login, person["password"], SCHOOL)
        assert response.status_code == 302, key


def test_failures_on_a_pupil_from_the_school_address_do_not_stop_her_own_browser(
    client, pupil, clock, attacker
):
    # Seven failures on one pupil from the shared address locked her out even at home.
    signed_in_before(client, pupil, ip=SCHOOL)
    fail(attacker, pupil.login, settings.THROTTLE_PAIR_FREE + 1, ip=SCHOOL)
    assert attempt(attacker, pupil.login, WRONG, SCHOOL).status_code == 429
    response = attempt(client, pupil.login, pupil.demo_password, SCHOOL)
    assert response.status_code == 302
    assert signed_in(client)


def test_a_known_browser_is_judged_by_its_own_failures(client, pupil, clock):
    signed_in_before(client, pupil)
    for _ in range(settings.THROTTLE_PAIR_FREE + 1):
        assert attempt(client, pupil.login, WRONG, SCHOOL).status_code == 200
    assert attempt(client, pupil.login, pupil.demo_password, SCHOOL).status_code == 429


def test_monday_morning_at_a_school_of_2000_behind_one_address(demo, clock, attacker):
    # Half an hour of arrivals: one pupil in ten mistypes once (200 distinct identifiers),
    # and everybody else gets in, from one address, in browsers the portal does not know.
    for n in range(200):
        clock.advance(9)
        fail(attacker, f"eleve{n}", 1, ip=SCHOOL, password=f"{WRONG}{n}")
    people = [
        (user, person["password"])
        for person in demo_people().values()
        if person.get("password")
        for user in User.objects.filter(
            first_name=person["first_name"], last_name=person["last_name"]
        )
    ]
    for user, password in people:
        browser = Client()
        assert attempt(browser, user.login, password, SCHOOL).status_code == 302, user.login


def test_successes_from_one_address_are_not_counted(demo, clock, low_ip_free, attacker):
    # A whole class behind one public address signs in on a Monday morning.
    people = [
        (user, person["password"])
        for person in demo_people().values()
        if person.get("password")
        for user in User.objects.filter(
            first_name=person["first_name"], last_name=person["last_name"]
        )
    ]
    assert len(people) > low_ip_free
    for user, password in people:
        assert attempt(attacker, user.login, password, SCHOOL).status_code == 302
        pass_second_factor(attacker, user)  # privileged people: their code changeant
        assert attacker.session["_auth_user_id"] == str(user.pk)
        attacker.cookies.clear()


# --- administrator clearing ---------------------------------------------------------------


def test_clear_throttle_lifts_the_account_wide_delay(
    client, pupil, dsi, clock, low_account_free, attacker
):
    fail_from_many_addresses(attacker, pupil.login, low_account_free + 1)
    assert attempt(attacker, pupil.login, pupil.demo_password, SCHOOL).status_code == 429
    actions.clear_throttle(acting_user=dsi, user=pupil)
    assert attempt(client, pupil.login, pupil.demo_password, SCHOOL).status_code == 302


def test_clear_throttle_is_audited(pupil, dsi):
    actions.clear_throttle(acting_user=dsi, user=pupil)
    (event,) = AuditEvent.objects.of_type(events.THROTTLE_CLEARED)
    assert event.actor_id == dsi.pk
    assert event.subject_id == pupil.pk


# --- no enumeration -----------------------------------------------------------------------


def test_unknown_account_and_wrong_password_get_identical_answers(pupil, attacker):
    known = attempt(attacker, pupil.login, WRONG)
    unknown = attempt(attacker, "personne.inconnue", WRONG)
    assert known.status_code == unknown.status_code == 200
    assert MISMATCH in text_of(known)
    assert MISMATCH in text_of(unknown)
    assert known.context["form"].errors == unknown.context["form"].errors


def test_unknown_account_is_throttled_like_a_known_one(pupil, clock, attacker):
    failures = settings.THROTTLE_PAIR_FREE + 1
    fail(attacker, pupil.login, failures)
    fail(attacker, "personne.inconnue", failures)
    known = attempt(attacker, pupil.login, WRONG)
    unknown = attempt(attacker, "personne.inconnue", WRONG)
    assert known.status_code == unknown.status_code == 429
    assert known.headers["Retry-After"] == unknown.headers["Retry-After"]
    assert known.context["form"].errors == unknown.context["form"].errors


# --- bursts: reserve, then verify ------------------------------------------------------------


@pytest.fixture
def burst(run_together):
    """``burst(count, account=…, addresses=…)``: ``count`` attempts at once (threads released
    together); how many were admitted."""

    def attempts(count: int, *, account: str, addresses, settle: float = 0.005) -> int:
        def one(n: int) -> bool:
            _verdict, judged = throttle.begin(throttle.PASSWORD, account=account, ip=addresses(n))
            if judged is None:
                return False
            time.sleep(settle)  # the password check: the others arrive meanwhile
            judged.failed()
            return True

        return sum(run_together(count, one))

    return attempts


def test_a_burst_from_many_addresses_gets_what_the_account_counter_allows(db, clock, burst):
    # The attack found: 200 parallel wrong passwords on one account, 25-27 judged for 21.
    admitted = burst(200, account="user:1", addresses=lambda n: f"198.51.{n // 250}.{n % 250}")
    assert admitted == settings.THROTTLE_ACCOUNT_FREE + 1


def test_a_burst_from_one_address_gets_what_the_pair_counter_allows(db, clock, burst):
    admitted = burst(100, account="user:1", addresses=lambda n: ATTACKER)
    assert admitted == settings.THROTTLE_PAIR_FREE + 1


def test_refused_attempts_of_a_burst_give_their_places_back(db, clock, burst):
    burst(100, account="user:1", addresses=lambda n: ATTACKER)
    clock.advance(1)
    verdict, judged = throttle.begin(throttle.PASSWORD, account="user:1", ip=ATTACKER)
    # Six failures: the seventh attempt waits one second after the last, not 2^94.
    assert verdict.allowed
    assert judged is not None
    judged.release()


BURST_SCRIPT = """
import os, sys
import django
django.setup()
from convergence.accounts import throttle
count = int(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()  # "go": both processes start together
held = []
for n in range(count):
    verdict, judged = throttle.begin(
        throttle.PASSWORD, account="user:77", ip=f"198.51.{n % 200}.{os.getpid() % 250}"
    )
    if judged is not None:
        held.append(judged)  # its password is being checked: still in flight
print(len(held), flush=True)
sys.stdin.readline()  # "end": every attempt of both processes has been judged
for judged in held:
    judged.failed()
"""


def test_two_processes_share_the_counter_through_redis(tmp_path):
    # Two app processes (gunicorn workers, two hosts) hammer one account at the same instant.
    import os
    import subprocess
    import sys

    import redis

    location = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(location, socket_connect_timeout=2).flushdb()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip("Redis ne répond pas (exigé en CI)")
    env = {
        **os.environ,
        "REDIS_URL": location,
        "DJANGO_SETTINGS_MODULE": "convergence.settings",
        "CONVERGENCE_CACHE_PREFIX": f"burst-{os.getpid()}",
    }
    script = tmp_path / "burst.py"
    script.write_text(BURST_SCRIPT)
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), "150"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        counts = [int(process.stdout.readline()) for process in processes if process.stdout]
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("end\n")
            process.stdin.flush()
        for process in processes:
            process.wait(timeout=60)
    finally:
        for process in processes:
            process.kill()
    assert all(process.returncode == 0 for process in processes)
    admitted = sum(counts)
    assert admitted == settings.THROTTLE_ACCOUNT_FREE + 1
