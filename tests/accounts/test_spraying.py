"""Password spraying is seen, slowed at its source, and the DSI is told within minutes.

The attack found: one password tried on 500 accounts from 20 addresses was judged 500 times in
19 s and took the 5 accounts that used it — no global limit, no alert.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.test import Client

from convergence.accounts import throttle
from convergence.accounts.events import LOGIN_SPRAYING_DETECTED
from convergence.accounts.models import AccountState, User
from convergence.audit.models import AuditEvent
from convergence.notifications.actions import deliver_due_mail

SPRAYED = "Printemps-Soleil-2026!"
ALERT_SUBJECT = "pulvérisation de mots de passe"

pytestmark = pytest.mark.usefixtures("immediate_tasks")


def attempt(client, login, password, ip):
    return client.post("/connexion/", {"login": login, "password": password}, REMOTE_ADDR=ip)


def make_accounts(count: int, *, victims: set[int]) -> list[User]:
    """``count`` pupils; those at the ``victims`` positions use the sprayed password."""
    sprayed = make_password(SPRAYED)
    other = make_password("Un-Autre-Mot-De-Passe-Solide-1")
    users = [
        User(
            login=f"eleve{n:04d}",
            first_name="Élève",
            last_name=f"Numéro {n}",
            state=AccountState.ACTIVE,
            password=sprayed if n in victims else other,
        )
        for n in range(count)
    ]
    User.objects.bulk_create(users)
    return list(User.objects.filter(login__startswith="eleve").order_by("login"))


def alerts() -> list:
    """The alerts sent: the DSI's notification e-mails (sent by the worker once the request
    commits, which a test's transaction never does: delivered here) and the mailboxes'."""
    deliver_due_mail()
    return [message for message in mail.outbox if ALERT_SUBJECT in message.subject]


def test_one_password_on_500_accounts_from_20_addresses_is_stopped_and_the_dsi_told(
    dsi, clock, settings
):
    victims = {60, 170, 280, 390, 499}
    accounts = make_accounts(500, victims=victims)
    # Twenty addresses in twenty different networks: no address or network stands out.
    addresses = [f"198.{18 + n}.{n}.7" for n in range(20)]
    statuses = []
    for n, account in enumerate(accounts):
        statuses.append(attempt(Client(), account.login, SPRAYED, addresses[n % 20]).status_code)
    judged = sum(1 for status in statuses if status in (200, 302))
    assert judged == settings.THROTTLE_SPRAY_PASSWORD_ACCOUNTS
    assert statuses.count(302) == 0  # none of the five accounts using it was taken
    assert statuses.count(429) == 500 - judged
    (alert,) = alerts()
    assert alert.to == [dsi.email]
    event = AuditEvent.objects.of_type(LOGIN_SPRAYING_DETECTED).get()
    assert event.data["scope"] == "password"


def test_a_victim_in_her_own_browser_still_signs_in_during_the_spray(db, clock, settings):
    accounts = make_accounts(30, victims={25})
    victim = accounts[25]
    own = Client()
    own.cookies[throttle.device_cookie_name()] = throttle.device_cookie_value(victim.pk)
    for account in accounts[:20]:
        attempt(Client(), account.login, SPRAYED, "198.51.100.7")
    assert attempt(Client(), victim.login, SPRAYED, "198.51.100.8").status_code == 429
    assert attempt(own, victim.login, SPRAYED, "203.0.113.10").status_code == 302


def test_the_sprayed_password_is_refused_for_every_identifier_alike(db, clock, settings):
    make_accounts(15, victims=set())
    for n in range(settings.THROTTLE_SPRAY_PASSWORD_ACCOUNTS):
        attempt(Client(), f"eleve{n:04d}", SPRAYED, "198.51.100.7")
    known = attempt(Client(), "eleve0014", SPRAYED, "198.51.100.9")
    unknown = attempt(Client(), "personne.inconnue", SPRAYED, "198.51.100.9")
    assert known.status_code == unknown.status_code == 429
    assert known.headers["Retry-After"] == unknown.headers["Retry-After"]


def test_different_wrong_passwords_do_not_look_like_a_spray(db, clock, settings):
    make_accounts(40, victims=set())
    for n in range(40):
        response = attempt(Client(), f"eleve{n:04d}", f"Faute-De-Frappe-{n}", "198.51.100.7")
        assert response.status_code == 200
    assert not alerts()


def test_many_identifiers_failing_from_one_network_pace_it(dsi, clock, settings):
    settings.THROTTLE_SPRAY_NETWORK_PER_MINUTE = 20
    for n in range(20):
        attempt(Client(), f"inconnu{n}", f"Mot-{n}", f"203.0.113.{n + 1}")
    (event,) = AuditEvent.objects.of_type(LOGIN_SPRAYING_DETECTED)
    assert event.data == {"scope": "network", "source": "203.0.113.0/24", "failures": 20}
    assert len(alerts()) == 1
    first = attempt(Client(), "inconnu99", "Mot-99", "203.0.113.99")
    second = attempt(Client(), "inconnu98", "Mot-98", "203.0.113.99")
    assert first.status_code == 200
    assert second.status_code == 429
    assert 1 <= int(second.headers["Retry-After"]) <= settings.THROTTLE_SPRAY_PACE_SECONDS
    clock.advance(settings.THROTTLE_SPRAY_PACE_SECONDS)
    assert attempt(Client(), "inconnu97", "Mot-97", "203.0.113.99").status_code == 200
    # Other networks are not paced.
    assert attempt(Client(), "inconnu96", "Mot-96", "198.51.100.5").status_code == 200


def test_a_known_browser_is_never_paced(pupil, clock, settings):
    settings.THROTTLE_SPRAY_NETWORK_PER_MINUTE = 5
    own = Client()
    own.cookies[throttle.device_cookie_name()] = throttle.device_cookie_value(pupil.pk)
    for n in range(10):
        attempt(Client(), f"inconnu{n}", f"Mot-{n}", f"203.0.113.{n + 1}")
    for _ in range(3):
        response = attempt(own, pupil.login, pupil.demo_password, "203.0.113.50")
        assert response.status_code == 302
        own.post("/deconnexion/", REMOTE_ADDR="203.0.113.50")


def test_an_academie_wide_wave_paces_its_sources_but_not_every_school(dsi, clock, settings):
    settings.THROTTLE_SPRAY_ACADEMIE_PER_MINUTE = 30
    settings.THROTTLE_SPRAY_SOURCE_PER_MINUTE = 5
    # One source tries six identifiers; the rest of the wave comes one failure per network.
    for n in range(6):
        attempt(Client(), f"source{n}", f"Mot-{n}", "198.51.100.7")
    for n in range(24):
        attempt(Client(), f"vague{n}", f"Mot-{n}", f"10.{n}.0.1")
    (event,) = AuditEvent.objects.of_type(LOGIN_SPRAYING_DETECTED)
    assert event.data["scope"] == "academie"
    assert attempt(Client(), "source7", "Mot-7", "198.51.100.7").status_code == 200
    assert attempt(Client(), "source8", "Mot-8", "198.51.100.7").status_code == 429
    # A school with one mistyped password this minute is not slowed.
    for n in range(3):
        assert attempt(Client(), f"college{n}", f"Mot-{n}", "192.0.2.25").status_code == 200


def test_one_address_trying_many_identifiers_in_a_minute_is_flagged(dsi, clock, settings):
    settings.THROTTLE_SPRAY_ADDRESS_PER_MINUTE = 15
    for n in range(15):
        attempt(Client(), f"inconnu{n}", f"Mot-{n}", "198.51.100.7")
    (event,) = AuditEvent.objects.of_type(LOGIN_SPRAYING_DETECTED)
    assert event.data == {"scope": "address", "source": "198.51.100.7", "failures": 15}


def test_the_alert_is_sent_once_per_flag_period(dsi, clock, settings):
    settings.THROTTLE_SPRAY_ADDRESS_PER_MINUTE = 5
    # Alerts are counted per flag period of the clock (``throttle._trip``): start at the
    # beginning of one, or the first minute may straddle two periods (one run in fifteen).
    period = settings.THROTTLE_SPRAY_FLAG_SECONDS
    clock.now = (clock.now // period + 1) * period
    for n in range(30):
        clock.advance(settings.THROTTLE_SPRAY_PACE_SECONDS)
        attempt(Client(), f"inconnu{n}", f"Mot-{n}", "198.51.100.7")
    assert len(alerts()) == 1
    clock.advance(settings.THROTTLE_SPRAY_FLAG_SECONDS + 1)
    for n in range(5):
        attempt(Client(), f"encore{n}", f"Mot-{n}", "198.51.100.7")
    assert len(alerts()) == 2


def test_the_alert_also_goes_to_the_configured_addresses(dsi, clock, settings):
    settings.THROTTLE_SPRAY_ADDRESS_PER_MINUTE = 5
    settings.SECURITY_ALERT_EMAILS = ["rssi@ac-besancon.fr"]
    for n in range(5):
        attempt(Client(), f"inconnu{n}", f"Mot-{n}", "198.51.100.7")
    recipients = sorted(message.to[0] for message in alerts())
    assert recipients == [dsi.email, "rssi@ac-besancon.fr"]


def test_network_of_groups_addresses_by_24_and_56():
    assert throttle.network_of("203.0.113.77") == "203.0.113.0/24"
    assert throttle.network_of("2001:db8:1234:5678::1") == "2001:db8:1234:5600::/56"
    assert throttle.network_of("pas-une-adresse") == "pas-une-adresse"
