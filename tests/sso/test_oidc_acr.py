"""Asking for a second factor (``acr_values``) of a person who has none: the answer tells the
truth — password only — and the client decides (tests/sso/test_step_up.py covers a person
with a factor). Every service login is audited."""

from __future__ import annotations

from typing import Any

import pytest

from convergence.audit.models import AuditEvent
from convergence.sso import events
from convergence.sso.models import Acr

from .test_single_logout import claims_of, register_client, sign_in_and_open_service


@pytest.mark.django_db
def test_mfa_asked_password_answered_and_login_audited(teacher: Any) -> None:
    register_client("https://appli.exemple.fr/bcl")

    _, tokens = sign_in_and_open_service(teacher, acr_values=Acr.MFA)

    assert claims_of(tokens["id_token"])["acr"] == Acr.PASSWORD
    (event,) = AuditEvent.objects.of_type(events.SERVICE_LOGIN)
    assert event.subject_id == teacher.pk
    assert event.data == {"service": "appli-test", "protocol": "oidc"}
