"""The administration (/administration/): DSI only, signed in through the portal, audited."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from convergence.accounts import events
from convergence.accounts.models import AccountState, User
from convergence.audit import events as audit_events
from convergence.audit.models import AuditEvent
from convergence.portal.models import Service

USERS = "/administration/accounts/user/"


@pytest.fixture
def admin_client(client, dsi):
    client.force_login(dsi)
    return client


def results(response) -> list:
    return list(response.context["cl"].result_list)


def test_dsi_opens_the_administration(admin_client):
    response = admin_client.get("/administration/")
    assert response.status_code == 200
    assert USERS in response.content.decode()


def test_user_list_searches_by_name(admin_client, pupil, pupil_in_dole, parent):
    response = admin_client.get(USERS, {"q": "Martin"})
    assert response.status_code == 200
    assert set(results(response)) == {pupil, pupil_in_dole, parent}


def test_user_list_searches_by_login(admin_client, teacher):
    response = admin_client.get(USERS, {"q": teacher.login})
    assert response.status_code == 200
    assert results(response) == [teacher]


def test_service_list_searches_by_name(admin_client):
    response = admin_client.get("/administration/portal/service/", {"q": "Arena"})
    assert response.status_code == 200
    assert [service.slug for service in results(response)] == ["arena"]


def test_establishment_list_searches_by_uai(admin_client):
    response = admin_client.get("/administration/core/establishment/", {"q": "0250013D"})
    assert response.status_code == 200
    assert [e.name for e in results(response)] == ["Collège Victor Hugo"]


def test_establishment_list_searches_by_city(admin_client):
    response = admin_client.get("/administration/core/establishment/", {"q": "Dole"})
    assert [e.uai for e in results(response)] == ["0390012B"]


def test_audit_trail_is_readable_but_not_writable(admin_client):
    assert admin_client.get("/administration/audit/auditevent/").status_code == 200
    assert admin_client.get("/administration/audit/auditevent/add/").status_code == 403


def test_anonymous_visitor_is_sent_to_the_portal_sign_in(client, demo):
    response = client.get("/administration/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain
    assert response.request["PATH_INFO"] == "/connexion/"


def test_pupil_does_not_get_the_administration(client, pupil):
    client.force_login(pupil)
    response = client.get("/administration/")
    assert response.status_code in {302, 403}
    followed = client.get("/administration/", follow=True)
    assert "app_list" not in (followed.context or {})


def test_pupil_does_not_get_the_user_list(client, pupil, teacher):
    client.force_login(pupil)
    response = client.get(USERS, follow=True)
    assert "cl" not in (response.context or {})
    assert teacher.login not in response.content.decode()


def test_teacher_does_not_get_the_administration(client, teacher):
    client.force_login(teacher)
    response = client.get(USERS, follow=True)
    assert "cl" not in (response.context or {})


def test_admin_sign_in_form_cannot_be_used_to_guess_a_password_without_delay(client, pupil, dsi):
    # Every sign-in goes through the portal's throttled form; the admin's own form must not
    # give a signed-in pupil unlimited guesses at a DSI's password.
    client.force_login(pupil)
    login_url = "/administration/login/?next=/administration/"
    for n in range(settings.THROTTLE_PAIR_FREE + 1):
        client.post(login_url, {"username": dsi.login, "password": f"Devine-{n}"})
    client.post(login_url, {"username": dsi.login, "password": dsi.demo_password})
    assert client.session.get("_auth_user_id") != str(dsi.pk)


def suspend(admin_client, user):
    return admin_client.post(
        USERS, {"action": "suspend", "_selected_action": [user.pk], "index": 0}
    )


def test_suspend_action_suspends_the_account(admin_client, pupil):
    response = suspend(admin_client, pupil)
    assert response.status_code == 302
    assert User.objects.get(pk=pupil.pk).state == AccountState.SUSPENDED


def test_suspend_action_is_audited(admin_client, pupil, dsi):
    suspend(admin_client, pupil)
    (event,) = AuditEvent.objects.of_type(events.ACCOUNT_STATE_CHANGED)
    assert event.actor_id == dsi.pk
    assert event.subject_id == pupil.pk
    assert event.data == {"from": AccountState.ACTIVE, "to": AccountState.SUSPENDED}


def test_suspended_account_loses_its_open_session(admin_client, pupil):
    pupils_browser = Client()
    signed_in = pupils_browser.post(
        "/connexion/", {"login": pupil.login, "password": pupil.demo_password}
    )
    assert signed_in.status_code == 302
    assert pupils_browser.get("/").status_code == 200

    suspend(admin_client, pupil)
    response = pupils_browser.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/connexion/")


def test_reactivate_action_restores_the_account_and_is_audited(admin_client, pupil, dsi):
    suspend(admin_client, pupil)
    admin_client.post(USERS, {"action": "reactivate", "_selected_action": [pupil.pk], "index": 0})
    assert User.objects.get(pk=pupil.pk).state == AccountState.ACTIVE
    changes = AuditEvent.objects.of_type(events.ACCOUNT_STATE_CHANGED).order_by("pk")
    assert [event.data["to"] for event in changes] == [
        AccountState.SUSPENDED,
        AccountState.ACTIVE,
    ]


def test_clear_sign_in_delays_action_is_audited(admin_client, pupil, dsi):
    admin_client.post(
        USERS, {"action": "clear_sign_in_delays", "_selected_action": [pupil.pk], "index": 0}
    )
    (event,) = AuditEvent.objects.of_type(events.THROTTLE_CLEARED)
    assert event.actor_id == dsi.pk
    assert event.subject_id == pupil.pk


def test_account_state_cannot_be_edited_in_the_change_form(admin_client, pupil):
    response = admin_client.get(f"{USERS}{pupil.pk}/change/")
    assert response.status_code == 200
    assert "state" not in response.context["adminform"].form.fields


def service_form(service: Service, **changes) -> dict:
    data = {
        "name": service.name,
        "slug": service.slug,
        "description": service.description,
        "url": service.url,
        "category": service.category,
        "icon": service.icon,
        "position": service.position,
        "audience_rules-TOTAL_FORMS": "0",
        "audience_rules-INITIAL_FORMS": "0",
        "audience_rules-MIN_NUM_FORMS": "0",
        "audience_rules-MAX_NUM_FORMS": "1000",
        # Single sign-on's blocks on the same page (sso/admin.py).
        **{
            f"{prefix}-{field}": value
            for prefix in ("oidc_client", "cas_service")
            for field, value in (
                ("TOTAL_FORMS", "0"),
                ("INITIAL_FORMS", "0"),
                ("MIN_NUM_FORMS", "0"),
                ("MAX_NUM_FORMS", "1"),
            )
        },
        "_save": "Enregistrer",
    }
    for flag in ("is_external", "for_everyone", "is_published"):
        if getattr(service, flag):
            data[flag] = "on"
    data.update(changes)
    return data


def test_service_change_in_the_admin_is_saved(admin_client):
    service = Service.objects.get(slug="messagerie")
    response = admin_client.post(
        f"/administration/portal/service/{service.pk}/change/",
        service_form(service, name="Messagerie académique"),
    )
    assert response.status_code == 302
    assert Service.objects.get(pk=service.pk).name == "Messagerie académique"


def test_service_change_in_the_admin_is_audited(admin_client, dsi):
    service = Service.objects.get(slug="messagerie")
    admin_client.post(
        f"/administration/portal/service/{service.pk}/change/",
        service_form(service, name="Messagerie académique"),
        REMOTE_ADDR="203.0.113.5",
    )
    (event,) = AuditEvent.objects.of_type(audit_events.ADMIN_CHANGE)
    assert event.actor_id == dsi.pk
    assert event.ip_address == "203.0.113.5"
    assert event.data["action"] == "change"
    assert event.data["model"] == "portal.service"
    assert event.data["object_id"] == str(service.pk)
