"""The lost factor of a protected account (staff, privileged roles, admin access) is never
removed by one person alone: four-eyes between two DSIs, or a code sent to the person's own
confirmed recovery address (issue 9, finding 1)."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from convergence.accounts.models import Assignment, Establishment, Role, User, current_school_year
from convergence.audit import events as audit_events
from convergence.audit.models import AuditEvent
from convergence.mfa import actions as mfa_actions
from convergence.mfa import events as mfa_events
from convergence.mfa.events import MFA_RESET_REQUESTED
from convergence.mfa.models import ResetRequestState, SecondFactorResetRequest
from tests.helpers import client_of as signed_in

IDENTITY = {"checks": ["identity_document", "birth_date"]}
CODE_IN_MAIL = re.compile(r"communiquer à cette personne : (\d{6})")


@pytest.fixture
def second_dsi(demo: None) -> User:
    """Marc Lefèvre, another DSI agent at the rectorat, with his own codes changeants."""
    person = User.objects.create_user(
        "mlefevre",
        "Un-mot-de-passe-solide-42",
        first_name="Marc",
        last_name="Lefèvre",
        email="marc.lefevre@ac-besancon.fr",
        state="active",
    )
    Assignment.objects.create(
        user=person,
        establishment=Establishment.objects.get(uai="0251800W"),
        role=Role.DSI,
        school_year=current_school_year(),
    )
    mfa_actions.enrol_totp(acting_user=None, user=person, secret="MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U")
    return person


def reset_url(account: User) -> str:
    return reverse("second_factor:manage_reset", args=[account.pk])


def request_url(reset_request: SecondFactorResetRequest) -> str:
    return reverse("second_factor:reset_request", args=[reset_request.pk])


def birth_of(account: User) -> str:
    return account.birth_date.strftime("%d/%m/%Y")


def refusals(actor: User, kind: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            event_type=audit_events.ACCESS_REFUSED.code, actor=actor, data__kind=kind
        )
    )


def test_dsi_alone_cannot_remove_a_staff_member_s_factor(dsi: User, head_of_school: User) -> None:
    client = signed_in(dsi)
    page = client.get(reset_url(head_of_school))
    assert page.status_code == 200
    assert "second DSI" in page.content.decode()
    one_person = client.post(
        reset_url(head_of_school), {**IDENTITY, "birth_date": birth_of(head_of_school)}
    )
    assert one_person.status_code == 400
    assert Authenticator.objects.filter(user=head_of_school).exists()
    with pytest.raises(mfa_actions.SecondFactorResetError):
        mfa_actions.reset_second_factors(
            acting_user=dsi, user=head_of_school, checks=IDENTITY["checks"], request=None
        )
    assert Authenticator.objects.filter(user=head_of_school).exists()


@pytest.mark.usefixtures("immediate_tasks")  # the notification e-mail, sent by the worker
def test_four_eyes_request_then_approval_by_another_dsi(
    dsi: User, second_dsi: User, head_of_school: User, django_capture_on_commit_callbacks: Any
) -> None:
    requester = signed_in(dsi)
    with django_capture_on_commit_callbacks(execute=True):
        asked = requester.post(
            reset_url(head_of_school),
            {"step": "request", **IDENTITY, "birth_date": birth_of(head_of_school)},
        )
    reset_request = SecondFactorResetRequest.objects.get(user=head_of_school)
    assert asked.status_code == 302
    assert asked["Location"] == request_url(reset_request)
    assert reset_request.state == ResetRequestState.PENDING
    assert reset_request.requested_by == dsi
    assert reset_request.expires_at - reset_request.created_at == datetime.timedelta(hours=24)
    assert Authenticator.objects.filter(user=head_of_school).exists()
    assert AuditEvent.objects.filter(
        event_type=MFA_RESET_REQUESTED.code, actor=dsi, subject=head_of_school
    ).exists()
    [notice] = mail.outbox  # the other DSI is asked to approve
    assert notice.to == [second_dsi.email]
    mail.outbox.clear()

    # The requester cannot approve her own request: refused, audited, nothing removed.
    own = requester.post(request_url(reset_request), {"decision": "approve"})
    assert own.status_code == 403
    assert Authenticator.objects.filter(user=head_of_school).exists()
    reset_request.refresh_from_db()
    assert reset_request.state == ResetRequestState.PENDING
    [refusal] = refusals(dsi, "mfa_reset_self_approval")
    assert refusal.data["target"] == head_of_school.pk

    approver = signed_in(second_dsi)
    assert approver.get(reverse("second_factor:reset_requests")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        approved = approver.post(request_url(reset_request), {"decision": "approve"})
    assert approved.status_code == 200
    assert not Authenticator.objects.filter(user=head_of_school).exists()
    reset_request.refresh_from_db()
    assert reset_request.state == ResetRequestState.APPROVED
    assert reset_request.decided_by == second_dsi
    [removal] = AuditEvent.objects.filter(
        event_type=mfa_events.MFA_RESET_BY_SUPPORT.code, subject=head_of_school
    )
    assert removal.actor == second_dsi
    assert removal.data["requested_by"] == dsi.pk
    assert removal.data["approved_by"] == second_dsi.pk
    assert removal.data["removed"] == ["totp"]
    assert [m.to for m in mail.outbox] == [[head_of_school.email]]

    again = approver.post(request_url(reset_request), {"decision": "approve"})
    assert again.status_code == 409


def test_a_second_dsi_refuses_and_nothing_is_removed(
    dsi: User, second_dsi: User, head_of_school: User
) -> None:
    reset_request = mfa_actions.request_second_factor_reset(
        acting_user=dsi, user=head_of_school, checks=IDENTITY["checks"], request=None
    )
    response = signed_in(second_dsi).post(request_url(reset_request), {"decision": "refuse"})
    assert response.status_code == 302
    reset_request.refresh_from_db()
    assert reset_request.state == ResetRequestState.REFUSED
    assert Authenticator.objects.filter(user=head_of_school).exists()
    assert AuditEvent.objects.filter(event_type="mfa.reset_refused", actor=second_dsi).exists()


def test_an_expired_request_cannot_be_approved(
    dsi: User, second_dsi: User, head_of_school: User
) -> None:
    long_ago = timezone.now() - datetime.timedelta(hours=25)
    reset_request = mfa_actions.request_second_factor_reset(
        acting_user=dsi,
        user=head_of_school,
        checks=IDENTITY["checks"],
        request=None,
        now=long_ago,
    )
    response = signed_in(second_dsi).post(request_url(reset_request), {"decision": "approve"})
    assert response.status_code == 409
    reset_request.refresh_from_db()
    assert reset_request.state == ResetRequestState.EXPIRED
    assert Authenticator.objects.filter(user=head_of_school).exists()


def test_the_person_concerned_cannot_approve_a_request_about_herself(
    dsi: User, second_dsi: User
) -> None:
    reset_request = mfa_actions.request_second_factor_reset(
        acting_user=second_dsi, user=dsi, checks=IDENTITY["checks"], request=None
    )
    with pytest.raises(mfa_actions.SecondFactorResetError):
        mfa_actions.approve_second_factor_reset(
            acting_user=dsi, reset_request=reset_request, request=None
        )
    assert Authenticator.objects.filter(user=dsi).exists()


def test_the_database_refuses_a_self_approved_request(dsi: User, head_of_school: User) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        SecondFactorResetRequest.objects.create(
            user=head_of_school,
            requested_by=dsi,
            decided_by=dsi,
            state=ResetRequestState.APPROVED,
            expires_at=timezone.now() + datetime.timedelta(hours=1),
            decided_at=timezone.now(),
        )


def test_a_referent_reaches_no_request(referent: User, dsi: User, head_of_school: User) -> None:
    reset_request = mfa_actions.request_second_factor_reset(
        acting_user=dsi, user=head_of_school, checks=IDENTITY["checks"], request=None
    )
    client = signed_in(referent)
    assert client.post(request_url(reset_request), {"decision": "approve"}).status_code == 403
    assert Authenticator.objects.filter(user=head_of_school).exists()
    assert refusals(referent, "dsi_page")


# --- A code sent to the person's confirmed address (the path with a single DSI) ---------------


def confirm_recovery_email(person: User) -> None:
    User.objects.filter(pk=person.pk).update(
        recovery_email="philippe.perso@exemple.fr", recovery_email_confirmed_at=timezone.now()
    )
    person.refresh_from_db()


@pytest.mark.usefixtures("immediate_tasks")  # the notification e-mail, sent by the worker
def test_code_sent_to_the_confirmed_address_removes_the_factor(
    dsi: User, head_of_school: User, django_capture_on_commit_callbacks: Any
) -> None:
    confirm_recovery_email(head_of_school)
    client = signed_in(dsi)
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(reset_url(head_of_school), {"step": "send_code"})
    assert sent.status_code == 302
    [message] = mail.outbox
    assert message.to == ["philippe.perso@exemple.fr"]
    code = CODE_IN_MAIL.search(message.body).group(1)  # type: ignore[union-attr]
    mail.outbox.clear()

    wrong = client.post(
        reset_url(head_of_school),
        {"step": "code", "code": "000000" if code != "000000" else "111111"},
    )
    assert wrong.status_code == 400
    assert Authenticator.objects.filter(user=head_of_school).exists()
    assert refusals(dsi, "mfa_reset_wrong_code")

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reset_url(head_of_school), {"step": "code", "code": code})
    assert done.status_code == 200
    assert not Authenticator.objects.filter(user=head_of_school).exists()
    [removal] = AuditEvent.objects.filter(
        event_type=mfa_events.MFA_RESET_BY_SUPPORT.code, subject=head_of_school
    )
    assert removal.data["channel"] == "recovery_email"
    assert [m.to for m in mail.outbox] == [["philippe.perso@exemple.fr"]]

    mfa_actions.enrol_totp(acting_user=None, user=head_of_school, secret="JBSWY3DPEHPK3PXPJBSWY3DP")
    reused = client.post(reset_url(head_of_school), {"step": "code", "code": code})
    assert reused.status_code == 400
    assert Authenticator.objects.filter(user=head_of_school).exists()


def test_no_code_without_a_confirmed_address(dsi: User, head_of_school: User) -> None:
    User.objects.filter(pk=head_of_school.pk).update(recovery_email="x@exemple.fr")
    client = signed_in(dsi)
    assert client.post(reset_url(head_of_school), {"step": "send_code"}).status_code == 409
    assert not mail.outbox
