"""The "Sécurité du compte" widget: the previous sign-in and the failures before this one,
read from the audit trail once per session."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.helpers import text_of


def sign_in(client: Client, person, password: str) -> int:
    return client.post("/connexion/", {"login": person.login, "password": password}).status_code


def test_the_widget_tells_the_previous_sign_in_and_the_failures_before_this_one(pupil):
    first, attacker, second = Client(), Client(), Client()
    assert sign_in(first, pupil, pupil.demo_password) == 302
    for _ in range(2):
        assert sign_in(attacker, pupil, "mauvais-mot-de-passe") == 200
    assert sign_in(second, pupil, pupil.demo_password) == 302
    page = text_of(second.get("/"))
    assert "Connexion précédente" in page
    assert "2 tentatives échouées depuis." in page


def test_the_widget_reads_the_audit_trail_once_per_session(pupil):
    client = Client()
    assert sign_in(client, pupil, pupil.demo_password) == 302
    assert "C'est votre première connexion au portail." in text_of(client.get("/"))
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/").status_code == 200
    assert not any("audit_auditevent" in query["sql"] for query in captured.captured_queries)
    # Failures after this sign-in belong to the next one's widget, not to this page.
    assert sign_in(Client(), pupil, "mauvais-mot-de-passe") == 200
    assert "tentative" not in text_of(client.get("/"))
