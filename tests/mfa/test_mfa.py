"""Second factors: TOTP enrolment and sign-in, replay, hashed single-use recovery codes,
the lost-factor procedure, the demo's enrolment."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from convergence.accounts.models import User
from convergence.audit import events as audit_events
from convergence.audit.models import AuditEvent
from convergence.mfa import actions as mfa_actions
from convergence.mfa import events as mfa_events
from convergence.mfa.seams import MFAAdapter, decrypt_text, recovery_code_digest
from tests.helpers import code_for_secret, forget_used_codes, totp_code, totp_secret

CODE_SHOWN = re.compile(r"<li><code>([A-Z0-9]{5}-[A-Z0-9]{5})</code></li>")


@pytest.fixture(autouse=True)
def _one_period_of_tolerance(settings: Any) -> None:
    """A code computed just before a 30-second boundary and checked just after stays valid:
    these tests never depend on when they run."""
    settings.MFA_TOTP_TOLERANCE = 1


def audited(event: audit_events.EventType, subject: User) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event_type=event.code, subject=subject))


def password_step(client: Client, user: User) -> Any:
    return client.post(
        reverse("account_login"), {"login": user.login, "password": user.demo_password}
    )


def reauthenticate(client: Client, user: User) -> None:
    response = client.post(reverse("account_reauthenticate"), {"password": user.demo_password})
    assert response.status_code == 302


# --- TOTP -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("immediate_tasks")  # the notification e-mail, sent by the worker
def test_totp_enrolment_with_qr_code_then_sign_in(
    teacher: User, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.force_login(teacher)
    # Changing the account's security asks for the password again first.
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    reauthenticate(client, teacher)

    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    content = page.content.decode()
    secret = client.session[SECRET_SESSION_KEY]
    assert 'src="data:image/svg+xml;base64,' in content  # the QR code
    assert f'value="{secret}"' in content  # and the secret as text
    assert "Activer les codes changeants" in content

    wrong = client.post(reverse("mfa_activate_totp"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "Code incorrect" in wrong.content.decode()
    assert not Authenticator.objects.filter(user=teacher).exists()

    enrolment_code = code_for_secret(secret)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("mfa_activate_totp"), {"code": enrolment_code})
    assert done.status_code == 302
    assert done["Location"] == reverse("mfa_view_recovery_codes")
    stored = Authenticator.objects.get(user=teacher, type=Authenticator.Type.TOTP)
    assert secret not in json.dumps(stored.data)  # encrypted at rest
    assert decrypt_text(stored.data["secret"]) == secret
    assert audited(mfa_events.MFA_ENABLED, teacher)
    assert audited(mfa_events.MFA_RECOVERY_CODES_GENERATED, teacher)
    assert any("codes changeants" in message.body for message in mail.outbox)

    # The recovery codes generated with it are shown once, then never again.
    shown = CODE_SHOWN.findall(client.get(reverse("mfa_view_recovery_codes")).content.decode())
    assert len(shown) == 10
    assert not CODE_SHOWN.findall(client.get(reverse("mfa_view_recovery_codes")).content.decode())

    # Next sign-in: password, then the code.
    client.logout()
    response = password_step(client, teacher)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    stage = client.get(reverse("mfa_authenticate"))
    assert "Utiliser une clé d'accès" in stage.content.decode()
    assert "Utiliser un code de secours" in stage.content.decode()
    assert "_auth_user_id" not in client.session  # not signed in yet

    refused = client.post(reverse("mfa_authenticate"), {"code": "123456"})
    assert refused.status_code == 200
    assert "Code incorrect ou déjà utilisé." in refused.content.decode()
    assert audited(mfa_events.MFA_FAILED, teacher)

    # The code typed to enrol is used up like any other.
    replay = client.post(reverse("mfa_authenticate"), {"code": enrolment_code})
    assert "Code incorrect ou déjà utilisé." in replay.content.decode()
    forget_used_codes(teacher)  # the next period's code, without waiting 30 seconds
    accepted = client.post(reverse("mfa_authenticate"), {"code": code_for_secret(secret)})
    assert accepted.status_code == 302
    assert client.session["_auth_user_id"] == str(teacher.pk)


def test_totp_code_replay_is_refused(head_of_school: User) -> None:
    """The same code twice in its period: the second sign-in is refused (allauth keeps used
    codes in the cache for the whole validity window)."""
    code = totp_code(head_of_school)
    first = Client()
    password_step(first, head_of_school)
    assert first.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302

    second = Client()
    password_step(second, head_of_school)
    replay = second.post(reverse("mfa_authenticate"), {"code": code})
    assert replay.status_code == 200
    assert "Code incorrect ou déjà utilisé." in replay.content.decode()
    assert "_auth_user_id" not in second.session
    assert audited(mfa_events.MFA_FAILED, head_of_school)


def test_totp_issuer_and_label_name_the_academie_and_login(head_of_school: User) -> None:
    url = MFAAdapter().build_totp_url(head_of_school, "JBSWY3DPEHPK3PXP")
    assert url.startswith(f"otpauth://totp/{head_of_school.login}?")
    assert "issuer=Acad%C3%A9mie" in url


# --- Recovery codes -------------------------------------------------------------------------


def test_recovery_codes_are_stored_only_as_digests(head_of_school: User) -> None:
    codes = mfa_actions.issue_recovery_codes(user=head_of_school)

    assert len(codes) == 10
    assert len(set(codes)) == 10
    stored = Authenticator.objects.get(user=head_of_school, type=Authenticator.Type.RECOVERY_CODES)
    dumped = json.dumps(stored.data)
    for code in codes:
        assert code not in dumped
        assert code.replace("-", "") not in dumped
    assert "seed" not in stored.data
    assert stored.data["digests"][0] == recovery_code_digest(head_of_school.pk, codes[0])
    assert stored.wrap().get_unused_codes()[0] != codes[0]  # allauth only ever sees masks


def test_recovery_code_signs_in_once(head_of_school: User) -> None:
    codes = mfa_actions.issue_recovery_codes(user=head_of_school)
    client = Client()
    password_step(client, head_of_school)
    # Case and dashes do not matter.
    response = client.post(reverse("mfa_authenticate"), {"code": codes[3].lower()})
    assert response.status_code == 302
    used = audited(mfa_events.MFA_RECOVERY_CODE_USED, head_of_school)
    assert used and used[0].data["remaining"] == 9

    again = Client()
    password_step(again, head_of_school)
    refused = again.post(reverse("mfa_authenticate"), {"code": codes[3]})
    assert refused.status_code == 200
    assert "_auth_user_id" not in again.session
    # Another code still works.
    assert again.post(reverse("mfa_authenticate"), {"code": codes[4]}).status_code == 302


def test_recovery_codes_regenerated_from_the_security_page(
    head_of_school: User, django_capture_on_commit_callbacks: Any
) -> None:
    old = mfa_actions.issue_recovery_codes(user=head_of_school)
    client = Client()
    client.force_login(head_of_school)
    assert client.post(reverse("mfa_generate_recovery_codes")).status_code == 302  # reauth
    reauthenticate(client, head_of_school)
    assert client.get(reverse("mfa_generate_recovery_codes")).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_generate_recovery_codes"))
    assert response["Location"] == reverse("mfa_view_recovery_codes")
    page = client.get(reverse("mfa_view_recovery_codes")).content.decode()
    new = CODE_SHOWN.findall(page)
    assert len(new) == 10 and not set(new) & set(old)
    assert "data:text/plain;charset=utf-8," in page  # download link, no second request
    assert audited(mfa_events.MFA_RECOVERY_CODES_GENERATED, head_of_school)

    wrapper = Authenticator.objects.get(
        user=head_of_school, type=Authenticator.Type.RECOVERY_CODES
    ).wrap()
    assert not wrapper.validate_code(old[0])
    assert wrapper.validate_code(new[0])


def test_recovery_codes_need_a_first_factor(teacher: User) -> None:
    client = Client()
    client.force_login(teacher)
    reauthenticate(client, teacher)
    response = client.post(reverse("mfa_generate_recovery_codes"))
    assert response.status_code == 400
    assert "Activez d'abord" in html.unescape(response.content.decode())
    assert not Authenticator.objects.filter(user=teacher).exists()


# --- Pages ----------------------------------------------------------------------------------


def test_security_page_lists_the_factors(head_of_school: User, teacher: User) -> None:
    client = Client()
    client.force_login(head_of_school)
    page = client.get(reverse("account_security")).content.decode()
    assert "Sécurité du compte" in page
    assert "Désactiver les codes changeants" in page
    assert "Clés d'accès" in html.unescape(page)

    other = Client()
    other.force_login(teacher)
    page = other.get("/compte/securite/").content.decode()
    assert "Activer les codes changeants" in page
    assert "Aucun second facteur" in page


def test_login_page_offers_passkeys_and_help_links(demo: None) -> None:
    page = html.unescape(Client().get(reverse("account_login")).content.decode())
    assert "Se connecter avec une clé d'accès" in page
    assert 'id="passkey_login"' in page
    assert reverse("mfa_login_webauthn") in page
    assert "Mot de passe oublié ?" in page
    assert "<script>" not in page  # CSP: no inline script, only JSON data blocks


# --- Lost factor ----------------------------------------------------------------------------


def reset_url(account: User) -> str:
    return reverse("second_factor:manage_reset", args=[account.pk])


IDENTITY = {"checks": ["identity_document", "birth_date"]}


@pytest.mark.usefixtures("immediate_tasks")  # the notification e-mail, sent by the worker
def test_referent_removes_a_lost_factor_after_identity_check(
    referent: User, pupil: User, django_capture_on_commit_callbacks: Any
) -> None:
    mfa_actions.enrol_totp(acting_user=None, user=pupil, secret="JBSWY3DPEHPK3PXPJBSWY3DP")
    mfa_actions.issue_recovery_codes(user=pupil)
    client = Client()
    client.force_login(referent)
    assert client.get(reset_url(pupil)).status_code == 200

    wrong = client.post(reset_url(pupil), {**IDENTITY, "birth_date": "15/03/2012"})
    assert wrong.status_code == 400
    assert "ne correspond pas" in wrong.content.decode()
    assert Authenticator.objects.filter(user=pupil).count() == 2
    assert not audited(mfa_events.MFA_RESET_BY_SUPPORT, pupil)

    birth = pupil.birth_date.strftime("%d/%m/%Y")
    unchecked = client.post(reset_url(pupil), {"checks": ["birth_date"], "birth_date": birth})
    assert unchecked.status_code == 400
    assert Authenticator.objects.filter(user=pupil).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reset_url(pupil), {**IDENTITY, "birth_date": birth})
    assert done.status_code == 200
    assert not Authenticator.objects.filter(user=pupil).exists()
    [event] = audited(mfa_events.MFA_RESET_BY_SUPPORT, pupil)
    assert event.actor == referent
    assert event.data["checks"] == ["identity_document", "birth_date"]
    assert event.data["removed"] == ["recovery_codes", "totp"]
    # A pupil without an address of their own: their guardians are told.
    [message] = mail.outbox
    assert "retiré" in message.subject
    assert message.to == ["karim.martin@exemple.fr"]
    assert pupil.login in message.body


def test_referent_cannot_reach_another_establishment(
    referent: User, pupil_in_dole: User, head_of_school: User
) -> None:
    client = Client()
    client.force_login(referent)
    birth = pupil_in_dole.birth_date.strftime("%d/%m/%Y")
    assert client.get(reset_url(pupil_in_dole)).status_code == 404
    response = client.post(reset_url(pupil_in_dole), {**IDENTITY, "birth_date": birth})
    assert response.status_code == 404
    # Staff are the DSI's: a référent does not reach the head of school either.
    assert client.get(reset_url(head_of_school)).status_code == 404
    assert Authenticator.objects.filter(user=head_of_school).exists()


@pytest.mark.usefixtures("immediate_tasks")  # the notification e-mail, sent by the worker
def test_dsi_removes_a_parent_s_factor_alone(
    dsi: User, parent: User, django_capture_on_commit_callbacks: Any
) -> None:
    """An ordinary account needs one operator; a staff member's needs two (see
    test_mfa_reset_four_eyes.py)."""
    mfa_actions.enrol_totp(acting_user=None, user=parent, secret="JBSWY3DPEHPK3PXPJBSWY3DP")
    client = Client()
    client.force_login(dsi)
    birth = parent.birth_date.strftime("%d/%m/%Y")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reset_url(parent), {**IDENTITY, "birth_date": birth})
    assert response.status_code == 200
    assert not Authenticator.objects.filter(user=parent).exists()
    assert [m.to for m in mail.outbox] == [[parent.email]]


def test_others_get_no_lost_factor_page(teacher: User, pupil: User) -> None:
    client = Client()
    client.force_login(teacher)
    assert client.get(reset_url(pupil)).status_code == 403


# --- Demo -----------------------------------------------------------------------------------


def test_demo_enrols_privileged_people_idempotently(
    head_of_school: User, referent: User, dsi: User, administrative_agent: User, teacher: User
) -> None:
    from convergence.core.blueprints import apply

    from ..conftest import DEMO_BLUEPRINT, demo_blueprint

    for person in (head_of_school, referent, dsi, administrative_agent):
        assert totp_secret(person)
    assert not Authenticator.objects.filter(user=teacher).exists()
    secrets = {totp_secret(p) for p in (head_of_school, referent, dsi, administrative_agent)}
    assert len(secrets) == 4
    before = Authenticator.objects.count(), AuditEvent.objects.count()
    apply(demo_blueprint(), source=str(DEMO_BLUEPRINT))
    assert (Authenticator.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("secret", ["not base32!", "AAAA"])
def test_a_wrong_totp_secret_fails_the_blueprint(demo: None, secret: str) -> None:
    from convergence.core.blueprints import BlueprintError, LoadReport
    from convergence.mfa.blueprint_sections import load_second_factors

    item = {
        "key": "x",
        "first_name": "Zoé",
        "last_name": "Essai",
        "birth_date": "1990-01-01",
        "roles": [],
        "totp_secret": secret,
    }
    with pytest.raises(BlueprintError, match="totp_secret"):
        load_second_factors([item], LoadReport())


@pytest.mark.usefixtures("immediate_tasks")  # the notification e-mail, sent by the worker
def test_totp_deactivation_is_audited_and_other_pages_render(
    head_of_school: User, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    client.force_login(head_of_school)
    page = client.get(reverse("mfa_reauthenticate")).content.decode()
    assert "Confirmer votre identité" in page and "Code changeant" in page
    forget_used_codes(head_of_school)
    response = client.post(reverse("mfa_reauthenticate"), {"code": totp_code(head_of_school)})
    assert response.status_code == 302
    assert "Aucune clé d" in client.get(reverse("mfa_list_webauthn")).content.decode()

    assert "Désactiver" in client.get(reverse("mfa_deactivate_totp")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=head_of_school).exists()
    [event] = audited(mfa_events.MFA_REMOVED, head_of_school)
    assert event.data == {"type": "totp"}
    assert any("retirés" in message.body for message in mail.outbox)
