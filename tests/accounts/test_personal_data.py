"""RGPD "Mes données": what the portal holds on a person, shown and exported (JSON, HTML, PDF);
a parent sees the same for each minor child, and nobody else's."""

from __future__ import annotations

import datetime
import json

import pytest
from allauth.mfa.models import Authenticator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from convergence.accounts import events
from convergence.accounts.models import User, majority_birth_date
from convergence.audit.models import AuditEvent
from convergence.core.personal_data import collect_personal_data
from convergence.portal.models import Favourite, Service
from convergence.sso.models import Consent
from tests.helpers import text_of

pytestmark = pytest.mark.django_db

TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DP"


def section(data: dict, key: str) -> list[dict]:
    return next(s["entries"] for s in data["sections"] if s["key"] == key)


@pytest.fixture
def pupil_with_data(pupil):
    """Léa with a favourite, a consent and changing codes, as any active pupil may have."""
    service = Service.objects.get(slug="ent")
    Favourite.objects.create(user=pupil, service=service, position=1)
    Consent.objects.create(user=pupil, service=service, scopes="openid profile")
    Authenticator.objects.create(
        user=pupil, type=Authenticator.Type.TOTP, data={"secret": TOTP_SECRET}
    )
    return pupil


def test_my_data_page_shows_identity_roles_and_other_apps_data(client, pupil_with_data):
    client.force_login(pupil_with_data)

    response = client.get(reverse("accounts:data"))

    assert response.status_code == 200
    page = text_of(response)
    assert pupil_with_data.login in page
    assert "Collège Victor Hugo" in page
    assert "Services favoris" in page
    assert "Codes changeants" in page
    assert TOTP_SECRET not in page


def test_my_data_page_asks_anonymous_visitors_to_sign_in(client, db):
    response = client.get(reverse("accounts:data"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_json_export_holds_the_login_and_no_secret(client, pupil_with_data):
    client.force_login(pupil_with_data)

    response = client.get(reverse("accounts:data_export", args=["json"]))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    body = response.content.decode()
    data = json.loads(body)
    assert data["account"] == pupil_with_data.login
    assert section(data, "identity")[0]["Identifiant"] == pupil_with_data.login
    assert section(data, "favourites")[0]["Service"] == Service.objects.get(slug="ent").name
    assert section(data, "consents")[0]["Informations transmises"] == "openid profile"
    assert pupil_with_data.password not in body
    assert "argon2" not in body
    assert TOTP_SECRET not in body


def test_export_is_audited(client, pupil):
    client.force_login(pupil)

    client.get(reverse("accounts:data_export", args=["json"]))

    event = AuditEvent.objects.of_type(events.DATA_EXPORTED).get()
    assert event.actor == pupil
    assert event.subject == pupil
    assert event.data == {"format": "json", "child": False}


def test_pdf_export_is_a_pdf(client, pupil_with_data):
    client.force_login(pupil_with_data)

    response = client.get(reverse("accounts:data_export", args=["pdf"]))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"%PDF")


def test_html_export_is_a_readable_standalone_page(client, pupil):
    client.force_login(pupil)

    response = client.get(reverse("accounts:data_export", args=["html"]))

    assert response["Content-Disposition"].startswith("attachment;")
    page = text_of(response)
    assert page.startswith("<!DOCTYPE html>")
    assert pupil.login in page
    assert "Rôles et affectations" in page


def test_unknown_export_format_is_not_found(client, pupil):
    client.force_login(pupil)

    assert client.get(reverse("accounts:data_export", args=["xml"])).status_code == 404
    assert not AuditEvent.objects.of_type(events.DATA_EXPORTED).exists()


def test_audit_trail_leaves_out_details_and_old_entries(pupil, dsi):
    recent = AuditEvent.objects.create(
        event_type=events.ACCOUNT_STATE_CHANGED.code, actor=dsi, subject=pupil, data={"x": "y"}
    )
    old = AuditEvent.objects.create(event_type=events.LOGIN_SUCCEEDED.code, subject=pupil)
    AuditEvent.objects.filter(pk=old.pk).update(
        occurred_at=recent.occurred_at - datetime.timedelta(days=400)
    )

    trail = section(collect_personal_data(pupil), "audit")

    labels = [entry["Événement"] for entry in trail]
    assert str(events.ACCOUNT_STATE_CHANGED.label) in labels
    assert str(events.LOGIN_SUCCEEDED.label) not in labels
    changed = trail[labels.index(str(events.ACCOUNT_STATE_CHANGED.label))]
    assert changed["Vous étiez"] == "concerné"
    assert "y" not in changed.values()


def test_parent_sees_minor_child_data(client, parent, pupil):
    client.force_login(parent)

    page = client.get(reverse("accounts:data"))
    response = client.get(reverse("accounts:data_child", args=[pupil.pk]))

    assert reverse("accounts:data_child", args=[pupil.pk]) in page.content.decode()
    assert response.status_code == 200
    assert pupil.login in text_of(response)


def test_parent_exports_minor_child_data(client, parent, pupil):
    client.force_login(parent)

    response = client.get(reverse("accounts:data_child_export", args=[pupil.pk, "json"]))

    assert json.loads(response.content)["account"] == pupil.login
    event = AuditEvent.objects.of_type(events.DATA_EXPORTED).get()
    assert (event.actor, event.subject) == (parent, pupil)
    assert event.data == {"format": "json", "child": True}


def test_parent_cannot_see_another_child(client, parent, invited_pupil):
    client.force_login(parent)

    assert client.get(reverse("accounts:data_child", args=[invited_pupil.pk])).status_code == 404
    response = client.get(reverse("accounts:data_child_export", args=[invited_pupil.pk, "json"]))
    assert response.status_code == 404


def test_parent_cannot_see_an_adult_child(client, parent, pupil_in_dole):
    User.objects.filter(pk=pupil_in_dole.pk).update(birth_date=majority_birth_date())
    client.force_login(parent)

    response = client.get(reverse("accounts:data_child", args=[pupil_in_dole.pk]))

    assert response.status_code == 404


def test_child_the_day_before_majority_is_still_a_minor(client, parent, pupil_in_dole):
    day_after = majority_birth_date() + datetime.timedelta(days=1)
    User.objects.filter(pk=pupil_in_dole.pk).update(birth_date=day_after)
    client.force_login(parent)

    response = client.get(reverse("accounts:data_child", args=[pupil_in_dole.pk]))

    assert response.status_code == 200


def test_pupil_cannot_see_their_parent_data(client, pupil, parent):
    client.force_login(pupil)

    assert client.get(reverse("accounts:data_child", args=[parent.pk])).status_code == 404


def test_my_data_page_queries_do_not_grow_with_the_data(client, parent, pupil, pupil_in_dole):
    client.force_login(parent)
    url = reverse("accounts:data")
    client.get(url)

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for service in Service.objects.all()[:5]:
        Favourite.objects.create(user=parent, service=service)
        Consent.objects.create(user=parent, service=service, scopes="openid")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def signed_in_from_outside(pupil):
    """Léa signed in from an Internet address with Firefox: a session and an audit row that
    hold her address and browser."""
    from django.test import Client

    browser = Client(REMOTE_ADDR="203.0.113.7", HTTP_USER_AGENT=FIREFOX)
    browser.post("/connexion/", {"login": pupil.login, "password": pupil.demo_password})
    return browser


def test_my_data_page_masks_addresses_and_browsers_as_my_devices_does(signed_in_from_outside):
    content = signed_in_from_outside.get(reverse("accounts:data")).content.decode()
    assert "203.0.113.7" not in content
    assert "203.0.113.x" in content
    assert "Gecko" not in content
    assert "Firefox sur Windows" in content


def test_my_own_export_holds_the_full_address_and_browser(signed_in_from_outside):
    response = signed_in_from_outside.get(reverse("accounts:data_export", args=["json"]))
    sessions = section(json.loads(response.content), "sessions")
    assert sessions[0]["Adresse IP"] == "203.0.113.7"
    assert sessions[0]["Navigateur"] == FIREFOX


def test_parent_never_sees_the_childs_addresses_or_browsers(
    client, parent, pupil, signed_in_from_outside
):
    client.force_login(parent)
    page = client.get(reverse("accounts:data_child", args=[pupil.pk])).content.decode()
    export = client.get(reverse("accounts:data_child_export", args=[pupil.pk, "json"]))
    for shown in (page, export.content.decode()):
        assert "203.0.113" not in shown
        assert "Firefox" not in shown
        assert "Adresse IP" not in shown
    assert section(json.loads(export.content), "sessions")  # the sessions, without them


def test_my_data_page_writes_dates_in_words_and_the_json_export_in_iso(client, pupil):
    pupil.date_joined = datetime.datetime(2026, 12, 3, 18, 24, tzinfo=datetime.UTC)
    pupil.save(update_fields=["date_joined"])
    client.force_login(pupil)
    page = text_of(client.get(reverse("accounts:data")))
    export = json.loads(client.get(reverse("accounts:data_export", args=["json"])).content)
    assert "3 décembre 2026 à 19:24" in page
    assert "2026-12-03 19:24" not in page
    assert section(export, "identity")[0]["Compte créé le"] == "2026-12-03 19:24"
