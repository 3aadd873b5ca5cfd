"""The second-factor policy: privileged roles must enrol a factor before anything else; what a
session used; which services need a factor from where.

Isabelle (DSI), Claire (administratif), Julien (référent) and Philippe (direction) have their
"codes changeants" enrolled by the demo; a test that takes them away plays the person who has
not enrolled yet.
"""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.messages import get_messages
from django.test import Client, RequestFactory
from django.urls import reverse

from convergence.accounts.models import Assignment
from convergence.mfa import policy as mfa_policy
from convergence.portal.models import Service
from tests.helpers import sign_in_with_totp

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
OUTSIDE = "203.0.113.7"  # TEST-NET-3: never one of the académie's networks


def without_factor(user: Any) -> Any:
    Authenticator.objects.filter(user_id=user.pk).delete()
    return user


def browser_of(user: Any) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


# --- per role: the middleware ----------------------------------------------------------------


def test_dsi_without_factor_is_sent_to_enrol_with_an_explanation(dsi: Any) -> None:
    browser = browser_of(without_factor(dsi))

    response = browser.get(reverse("portal:dashboard"))

    assert response.status_code == 302
    assert response["Location"] == reverse("account_security")
    (message,) = list(get_messages(response.wsgi_request))
    assert "second facteur est obligatoire" in str(message)


def test_dsi_without_factor_cannot_reach_the_administration(dsi: Any) -> None:
    response = browser_of(without_factor(dsi)).get("/administration/")

    assert response.status_code == 302
    assert response["Location"] == reverse("account_security")


def test_dsi_without_factor_reaches_the_enrolment_page(dsi: Any) -> None:
    response = browser_of(without_factor(dsi)).get(reverse("account_security"))

    assert response.status_code == 200


@pytest.mark.parametrize("name", ["account_change_password", "error_codes"])
def test_dsi_without_factor_may_still_use_account_essentials(dsi: Any, name: str) -> None:
    response = browser_of(without_factor(dsi)).get(reverse(name))

    assert response.status_code == 200


def test_dsi_without_factor_may_sign_out(dsi: Any) -> None:
    browser = browser_of(without_factor(dsi))

    browser.post(reverse("account_logout"))

    assert "_auth_user_id" not in browser.session


def test_htmx_request_is_sent_to_enrol_by_navigation(dsi: Any) -> None:
    response = browser_of(without_factor(dsi)).get(
        reverse("portal:dashboard"), HTTP_HX_REQUEST="true"
    )

    assert response["HX-Redirect"] == reverse("account_security")


def test_dsi_with_a_factor_passes(dsi: Any) -> None:
    assert mfa_policy.user_has_mfa(dsi)  # enrolled by the demo

    response = browser_of(dsi).get(reverse("portal:dashboard"))

    assert response.status_code == 200


def test_referent_signing_in_gives_the_code_and_reaches_the_dashboard(referent: Any) -> None:
    browser = Client()

    sign_in_with_totp(browser, referent)
    response = browser.get(reverse("portal:dashboard"))

    assert response.status_code == 200
    assert mfa_policy.session_used_mfa(response.wsgi_request)


def test_pupil_is_untouched(pupil: Any) -> None:
    response = browser_of(pupil).get(reverse("portal:dashboard"))

    assert response.status_code == 200
    assert not mfa_policy.mfa_required_for(pupil)


def test_enrolling_a_factor_lets_the_person_in_at_once(dsi: Any) -> None:
    browser = browser_of(without_factor(dsi))
    assert browser.get(reverse("portal:dashboard")).status_code == 302

    TOTP.activate(dsi, SECRET)

    assert browser.get(reverse("portal:dashboard")).status_code == 200


def test_removing_the_last_factor_is_noticed_at_the_next_request(dsi: Any) -> None:
    browser = browser_of(dsi)
    assert browser.get(reverse("portal:dashboard")).status_code == 200  # decision remembered

    without_factor(dsi)

    assert browser.get(reverse("portal:dashboard")).status_code == 302


# --- per role: who must -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "required"),
    [
        ("dsi", True),
        ("referent", True),
        ("head_of_school", True),
        ("administrative_agent", True),
        ("teacher", False),
        ("cpe", False),
        ("agent", False),
        ("parent", False),
        ("pupil", False),
    ],
)
def test_roles_that_require_a_factor(request: Any, person: str, required: bool) -> None:
    assert mfa_policy.mfa_required_for(request.getfixturevalue(person)) is required


def test_only_this_school_years_roles_count(dsi: Any) -> None:
    Assignment.objects.filter(user=dsi).update(school_year="2001-2002")

    assert not mfa_policy.mfa_required_for(dsi)


def test_the_roles_are_a_setting(teacher: Any, settings: Any) -> None:
    settings.MFA_REQUIRED_ROLES = ["enseignant"]

    assert mfa_policy.mfa_required_for(teacher)


# --- what the session used --------------------------------------------------------------------


def test_a_password_sign_in_has_not_used_a_factor(teacher: Any) -> None:
    browser = Client()
    browser.post(
        reverse("account_login"), {"login": teacher.login, "password": teacher.demo_password}
    )

    response = browser.get(reverse("portal:dashboard"))

    assert not mfa_policy.session_used_mfa(response.wsgi_request)


# --- per service and network --------------------------------------------------------------------


def request_from(address: str, user: Any) -> Any:
    request = RequestFactory().get("/oidc/authorize/", REMOTE_ADDR=address)
    request.user = user
    return request


@pytest.mark.parametrize(
    ("slug_flags", "address", "required"),
    [
        ({"mfa_required": True}, "127.0.0.1", True),
        ({"mfa_required": True}, OUTSIDE, True),
        ({"mfa_outside_trusted_networks": True}, OUTSIDE, True),
        ({"mfa_outside_trusted_networks": True}, "127.0.0.1", False),
        ({}, OUTSIDE, False),
    ],
)
def test_which_services_need_a_factor_from_where(
    teacher: Any, slug_flags: dict[str, bool], address: str, required: bool
) -> None:
    service = Service.objects.get(slug="pia")
    for flag, value in slug_flags.items():
        setattr(service, flag, value)

    assert mfa_policy.second_factor_required(request_from(address, teacher), service) is required
