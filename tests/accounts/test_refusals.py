"""Refused cross access leaves a trail (issue 9, finding 9): one ``access.refused`` row per
kind of attempt, with actor, address, path and target; the same 403/404; a loop bounded."""

from __future__ import annotations

import pytest
from django.urls import reverse

from convergence.accounts.models import Establishment, User
from convergence.audit import events
from convergence.audit.actions import REFUSALS_PER_ACTOR
from convergence.audit.models import AuditEvent
from convergence.provisioning.models import LetterAudience, LetterBatch
from tests.helpers import client_of as signed_in


def refusals_by(actor: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=events.ACCESS_REFUSED.code, actor=actor))


def test_pupil_on_a_manager_page_is_refused_and_audited(pupil: User) -> None:
    response = signed_in(pupil).get(reverse("portal:manage_accounts"))
    assert response.status_code == 403
    [refusal] = refusals_by(pupil)
    assert refusal.data["kind"] == "manager_page"
    assert refusal.data["path"] == reverse("portal:manage_accounts")
    assert refusal.ip_address == "127.0.0.1"


def test_referent_on_a_dsi_page_is_refused_and_audited(referent: User) -> None:
    assert signed_in(referent).get(reverse("provisioning:imports")).status_code == 403
    [refusal] = refusals_by(referent)
    assert refusal.data["kind"] == "dsi_page"


def test_parent_asking_for_another_family_s_child_is_refused_and_audited(
    parent: User, invited_pupil: User
) -> None:
    url = reverse("accounts:data_child_export", args=[invited_pupil.pk, "json"])
    assert signed_in(parent).get(url).status_code == 404
    [refusal] = refusals_by(parent)
    assert refusal.data == {
        "kind": "child_data",
        "target": invited_pupil.pk,
        "path": url,
        "method": "GET",
    }


def test_referent_on_a_pupil_of_another_school_is_refused_and_audited(
    referent: User, pupil_in_dole: User
) -> None:
    url = reverse("portal:manage_account", args=[pupil_in_dole.pk])
    assert signed_in(referent).get(url).status_code == 404
    [refusal] = refusals_by(referent)
    assert (refusal.data["kind"], refusal.data["target"]) == ("account", pupil_in_dole.pk)


def test_referent_on_another_s_letter_batch_is_refused_and_audited(
    referent: User, dsi: User
) -> None:
    batch = LetterBatch.objects.create(
        establishment=Establishment.objects.get(uai="0390012B"),
        audience=LetterAudience.ELEVES,
        requested_by=dsi,
    )
    url = reverse("provisioning:letter_batch", args=[batch.pk])
    assert signed_in(referent).get(url).status_code == 404
    [refusal] = refusals_by(referent)
    assert (refusal.data["kind"], refusal.data["target"]) == ("letter_batch", batch.pk)


def test_an_unknown_account_is_the_same_404(referent: User) -> None:
    url = reverse("portal:manage_account", args=[987654])
    assert signed_in(referent).get(url).status_code == 404
    assert refusals_by(referent)[0].data["target"] == 987654


def test_fifty_attempts_on_one_account_write_one_row(referent: User, pupil_in_dole: User) -> None:
    client = signed_in(referent)
    url = reverse("portal:manage_account", args=[pupil_in_dole.pk])
    for _ in range(50):
        assert client.get(url).status_code == 404
    assert len(refusals_by(referent)) == 1


def test_fifty_attempts_on_fifty_accounts_write_a_bounded_number_of_rows(
    referent: User,
) -> None:
    client = signed_in(referent)
    for pk in range(100000, 100050):
        assert client.get(reverse("portal:manage_account", args=[pk])).status_code == 404
    assert len(refusals_by(referent)) == REFUSALS_PER_ACTOR


@pytest.mark.parametrize(
    "name", ["portal:manage_accounts", "provisioning:letters", "provisioning:imports"]
)
def test_fifty_staff_page_attempts_write_one_row(pupil: User, name: str) -> None:
    client = signed_in(pupil)
    for _ in range(50):
        assert client.get(reverse(name)).status_code == 403
    assert len(refusals_by(pupil)) == 1
