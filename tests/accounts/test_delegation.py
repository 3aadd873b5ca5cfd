"""Delegation (``User.objects.managed_by``): a référent reaches pupils and parents, and never
an account that is anything else as well — issue 9, finding 1 (a référent takes over the DSI).
"""

from __future__ import annotations

from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from convergence.accounts.models import Assignment, Guardianship, Role, User, current_school_year
from convergence.audit import events
from convergence.audit.models import AuditEvent
from convergence.core.models import Establishment
from convergence.provisioning import letters
from convergence.provisioning.models import LetterAudience
from tests.helpers import client_of as signed_in
from tests.helpers import has_totp

COLLEGE = "0250013D"  # Collège Victor Hugo, where Julien is référent numérique


def previous_school_year() -> str:
    start = int(current_school_year()[:4]) - 1
    return f"{start}-{start + 1}"


def make_parent_of(person: User, pupil: User) -> None:
    """``person`` becomes a parent of ``pupil``, at the pupil's college, this school year."""
    Guardianship.objects.create(parent=person, pupil=pupil)
    Assignment.objects.get_or_create(
        user=person,
        establishment=Establishment.objects.get(uai=COLLEGE),
        role=Role.PARENT,
        school_year=current_school_year(),
    )


@pytest.fixture
def dsi_parent(dsi: User, pupil: User) -> User:
    """Isabelle, the DSI, is also the mother of Léa (a pupil at Julien's college)."""
    make_parent_of(dsi, pupil)
    return dsi


def refusals_by(actor: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=events.ACCESS_REFUSED.code, actor=actor))


# --- The attack of issue 9, end to end ---------------------------------------------------------


def test_referent_cannot_take_over_a_dsi_who_is_a_parent_of_his_pupil(
    referent: User, dsi_parent: User
) -> None:
    client = signed_in(referent)
    account_url = reverse("portal:manage_account", args=[dsi_parent.pk])
    factor_url = reverse("second_factor:manage_reset", args=[dsi_parent.pk])
    password_url = reverse("accounts:manage_reset_password", args=[dsi_parent.pk])
    birth = dsi_parent.birth_date.strftime("%d/%m/%Y")

    assert client.get(account_url).status_code == 404
    assert client.get(factor_url).status_code == 404
    posted = client.post(
        factor_url, {"checks": ["identity_document", "birth_date"], "birth_date": birth}
    )
    assert posted.status_code == 404
    assert client.get(password_url).status_code == 404
    assert client.post(password_url).status_code == 404

    assert has_totp(dsi_parent)
    dsi_parent.refresh_from_db()
    assert dsi_parent.check_password(dsi_parent.demo_password)
    listing = client.get(reverse("portal:manage_accounts"), {"q": dsi_parent.last_name})
    assert dsi_parent.login not in listing.content.decode()

    [refusal] = refusals_by(referent)  # one row a minute for the same account and kind
    assert refusal.data["kind"] == "account"
    assert refusal.data["target"] == dsi_parent.pk
    assert refusal.data["path"] == account_url
    assert refusal.ip_address == "127.0.0.1"


def test_referent_prints_no_parent_letter_for_a_dsi_who_is_a_parent(
    referent: User, dsi_parent: User, parent: User
) -> None:
    college = Establishment.objects.get(uai=COLLEGE)
    recipients = letters.letter_recipients(
        college, LetterAudience.PARENTS, include_active=True, actor=referent
    )
    assert dsi_parent not in recipients
    assert parent in recipients


@pytest.mark.parametrize("role", [Role.ENSEIGNANT, Role.AGENT, Role.CPE, Role.ADMINISTRATIF])
def test_referent_does_not_manage_a_parent_with_a_staff_role(
    referent: User, pupil: User, parent: User, role: str
) -> None:
    Assignment.objects.create(
        user=parent,
        establishment=Establishment.objects.get(uai="0251080N"),
        role=role,
        school_year=current_school_year(),
    )
    assert not User.objects.managed_by(referent).filter(pk=parent.pk).exists()
    assert (
        signed_in(referent).get(reverse("portal:manage_account", args=[parent.pk])).status_code
        == 404
    )


def test_referent_does_not_manage_a_parent_who_was_staff_last_year(
    referent: User, parent: User
) -> None:
    """Last year's roles count until the rentrée has retired them: look at every year."""
    Assignment.objects.create(
        user=parent,
        establishment=Establishment.objects.get(uai="0251800W"),
        role=Role.DSI,
        school_year=previous_school_year(),
    )
    assert not User.objects.managed_by(referent).filter(pk=parent.pk).exists()


def test_referent_does_not_manage_a_parent_with_admin_access(referent: User, parent: User) -> None:
    User.objects.filter(pk=parent.pk).update(is_staff=True)
    assert not User.objects.managed_by(referent).filter(pk=parent.pk).exists()
    User.objects.filter(pk=parent.pk).update(is_staff=False, is_superuser=True)
    assert not User.objects.managed_by(referent).filter(pk=parent.pk).exists()


def test_referent_does_not_manage_a_pupil_whose_role_requires_a_second_factor(
    referent: User, pupil: User, settings: Any
) -> None:
    settings.MFA_REQUIRED_ROLES = [*settings.MFA_REQUIRED_ROLES, Role.ELEVE]
    assert not User.objects.managed_by(referent).filter(pk=pupil.pk).exists()


def test_referent_does_not_manage_another_referent_or_himself(referent: User, pupil: User) -> None:
    make_parent_of(referent, pupil)
    assert not User.objects.managed_by(referent).filter(pk=referent.pk).exists()


# --- What delegation still allows --------------------------------------------------------------


def test_referent_still_manages_ordinary_pupils_and_parents(
    referent: User, pupil: User, parent: User, invited_pupil: User
) -> None:
    managed = set(User.objects.managed_by(referent))
    assert {pupil, parent, invited_pupil} <= managed
    assert all(not account.is_staff for account in managed)
    client = signed_in(referent)
    for account in (pupil, parent):
        assert client.get(reverse("portal:manage_account", args=[account.pk])).status_code == 200
        assert (
            client.get(reverse("second_factor:manage_reset", args=[account.pk])).status_code == 200
        )
        assert (
            client.get(reverse("accounts:manage_reset_password", args=[account.pk])).status_code
            == 200
        )
    assert not refusals_by(referent)


def test_dsi_still_manages_everyone(dsi: User, head_of_school: User, referent: User) -> None:
    assert User.objects.managed_by(dsi).count() == User.objects.count()
    client = signed_in(dsi)
    for account in (head_of_school, referent):
        assert client.get(reverse("portal:manage_account", args=[account.pk])).status_code == 200


# --- The identity check compares against what the operator cannot read ------------------------


def test_manage_page_shows_only_the_birth_year(referent: User, pupil: User) -> None:
    page = (
        signed_in(referent).get(reverse("portal:manage_account", args=[pupil.pk])).content.decode()
    )
    assert "14 mars 2012" not in page
    assert "14/03/2012" not in page
    assert "2012" in page


def test_wrong_birth_dates_close_the_lost_factor_check(referent: User, pupil: User) -> None:
    from convergence.mfa import actions as mfa_actions

    mfa_actions.enrol_totp(acting_user=None, user=pupil, secret="JBSWY3DPEHPK3PXPJBSWY3DP")
    client = signed_in(referent)
    url = reverse("second_factor:manage_reset", args=[pupil.pk])
    checks = ["identity_document", "birth_date"]
    for day in range(1, 6):
        wrong = client.post(url, {"checks": checks, "birth_date": f"{day:02d}/01/2012"})
        assert wrong.status_code == 400
    right = client.post(url, {"checks": checks, "birth_date": "14/03/2012"})
    assert right.status_code == 429
    assert Authenticator.objects.filter(user=pupil).exists()
    refusal = refusals_by(referent)[0]
    assert refusal.data["kind"] == "mfa_reset_wrong_birth_date"
    assert refusal.data["target"] == pupil.pk
