"""Activation from the letter: code (+ birth date), password, recovery contacts, as stories."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.core import mail
from django.db.models.signals import post_save
from django.test import Client
from django.utils import timezone

from convergence.accounts import actions, codes, events
from convergence.accounts.actions.accounts import RoleGrant
from convergence.accounts.models import AccountState, OneTimeCode, OneTimeCodePurpose, Role, User
from convergence.accounts.views import activation as activation_views
from convergence.audit.models import AuditEvent
from convergence.core.models import Establishment
from convergence.outbox.models import SmsMessage
from tests.helpers import post_sign_in as sign_in
from tests.helpers import text_of

NEW_PASSWORD = "Baleine-Cerf-Grenade-Lampe-17"
HUGO_BIRTH_DATE = "2014-07-01"
UNIFORM_ERROR = "Ces informations ne permettent pas d'activer un compte."


def letter_code(account: User, *, by: User | None = None, now: Any = None) -> str:
    code, _expires = actions.issue_activation_code(acting_user=by, user=account, now=now)
    return code


def step_one(client: Client, login: str, code: str, birth_date: str = "") -> Any:
    return client.post(
        "/activation/", {"identifiant": login, "code": code, "date_naissance": birth_date}
    )


def step_two(client: Client, password: str = NEW_PASSWORD, again: str | None = None) -> Any:
    return client.post(
        "/activation/mot-de-passe/",
        {"password1": password, "password2": password if again is None else again},
    )


def activate(client: Client, account: User, code: str, birth_date: str = HUGO_BIRTH_DATE) -> Any:
    response = step_one(client, account.login, code, birth_date)
    assert response.status_code == 302, text_of(response)
    return step_two(client)


def error_text(response: Any) -> str:
    found = re.search(r'id="erreur-activation".*?<p>(.*?)</p>', text_of(response), re.DOTALL)
    assert found, "no activation error shown"
    return found.group(1)


def test_activation_page_fills_in_the_login_from_the_letter_qr_code(
    client: Client, db: None
) -> None:
    response = client.get("/activation/?identifiant=hlambert")
    assert response.status_code == 200
    assert 'value="hlambert"' in response.content.decode()
    assert "Élèves uniquement" in text_of(response)


def test_invited_pupil_activates_account_with_letter(client: Client, invited_pupil: User) -> None:
    code = letter_code(invited_pupil)

    response = step_one(client, "HLambert ", code.lower(), HUGO_BIRTH_DATE)
    assert response["Location"] == "/activation/mot-de-passe/"
    assert code not in str(dict(client.session))
    page = client.get("/activation/mot-de-passe/")
    assert "hlambert" in text_of(page) and 'id="force-mot-de-passe"' in text_of(page)

    response = step_two(client)
    assert response["Location"] == "/activation/secours/"
    invited_pupil.refresh_from_db()
    assert invited_pupil.state == AccountState.ACTIVE
    assert invited_pupil.check_password(NEW_PASSWORD)
    assert OneTimeCode.objects.get(user=invited_pupil).used_at is not None
    assert (
        AuditEvent.objects.of_type(events.ACCOUNT_ACTIVATED).filter(subject=invited_pupil).exists()
    )

    response = client.post("/activation/secours/", {"action": "finish"}, follow=True)
    assert response.redirect_chain[-1][0].startswith("/connexion/")
    assert "Votre compte est activé" in text_of(response)
    assert sign_in(Client(), "hlambert", NEW_PASSWORD).status_code == 302


def test_wrong_birth_date_gets_the_uniform_error_and_counts_an_attempt(
    client: Client, invited_pupil: User
) -> None:
    code = letter_code(invited_pupil)
    response = step_one(client, "hlambert", code, "2014-07-02")
    assert response.status_code == 400
    assert UNIFORM_ERROR in error_text(response)
    assert OneTimeCode.objects.get(user=invited_pupil).attempts == 1
    failure = AuditEvent.objects.of_type(events.ACTIVATION_FAILED).get()
    assert failure.subject == invited_pupil and failure.data == {"reason": "birth_date"}
    invited_pupil.refresh_from_db()
    assert invited_pupil.state == AccountState.INVITED


def test_pupil_must_give_a_birth_date(client: Client, invited_pupil: User) -> None:
    response = step_one(client, "hlambert", letter_code(invited_pupil), "")
    assert response.status_code == 400
    assert UNIFORM_ERROR in error_text(response)


def test_answer_is_the_same_whatever_is_wrong(client: Client, invited_pupil: User) -> None:
    code = letter_code(invited_pupil)
    answers = {
        error_text(step_one(client, "personne-inconnue", code, HUGO_BIRTH_DATE)),
        error_text(step_one(client, "hlambert", "AAAA-BBBB-CCCC", HUGO_BIRTH_DATE)),
        error_text(step_one(client, "hlambert", code, "2001-01-01")),
    }
    assert len(answers) == 1
    unknown = AuditEvent.objects.of_type(events.ACTIVATION_FAILED).filter(subject=None).get()
    assert unknown.identifier_digest and unknown.data == {"reason": "unknown_login"}


def test_expired_code_is_refused(client: Client, invited_pupil: User, settings: Any) -> None:
    long_ago = timezone.now() - datetime.timedelta(days=settings.ACTIVATION_CODE_DAYS + 1)
    code = letter_code(invited_pupil, now=long_ago)
    response = step_one(client, "hlambert", code, HUGO_BIRTH_DATE)
    assert response.status_code == 400
    assert UNIFORM_ERROR in error_text(response)


def test_code_lives_the_configured_number_of_days(invited_pupil: User, settings: Any) -> None:
    settings.ACTIVATION_CODE_DAYS = 7
    _code, expires_at = actions.issue_activation_code(acting_user=None, user=invited_pupil)
    assert abs(expires_at - timezone.now() - datetime.timedelta(days=7)).total_seconds() < 60


def test_used_code_cannot_activate_again(client: Client, invited_pupil: User) -> None:
    code = letter_code(invited_pupil)
    activate(client, invited_pupil, code)
    response = step_one(Client(), "hlambert", code, HUGO_BIRTH_DATE)
    assert response.status_code == 400
    assert UNIFORM_ERROR in error_text(response)


def test_code_typed_as_new_password_is_refused(client: Client, invited_pupil: User) -> None:
    code = letter_code(invited_pupil)
    step_one(client, "hlambert", code, HUGO_BIRTH_DATE)
    response = step_two(client, code.lower().replace("-", ""))
    assert response.status_code == 400
    assert "Le code d'activation ne peut pas servir de mot de passe" in text_of(response)
    invited_pupil.refresh_from_db()
    assert invited_pupil.state == AccountState.INVITED
    assert OneTimeCode.objects.get(user=invited_pupil).used_at is None


def test_action_refuses_the_code_as_password_too(invited_pupil: User) -> None:
    code = letter_code(invited_pupil)
    with pytest.raises(actions.ActivationError):
        actions.activate_account(
            login="hlambert",
            code=code,
            birth_date=datetime.date(2014, 7, 1),
            new_password=code,
        )


def test_activation_code_never_signs_in(client: Client, invited_pupil: User) -> None:
    code = letter_code(invited_pupil)
    User.objects.filter(pk=invited_pupil.pk).update(state=AccountState.ACTIVE)
    assert sign_in(client, "hlambert", code).status_code != 302


def test_weak_password_is_refused_in_french(client: Client, invited_pupil: User) -> None:
    step_one(client, "hlambert", letter_code(invited_pupil), HUGO_BIRTH_DATE)
    response = step_two(client, "azerty")
    assert response.status_code == 400
    assert "trop facile à deviner" in text_of(response) or "plus courants" in text_of(response)


def test_passwords_must_match(client: Client, invited_pupil: User) -> None:
    step_one(client, "hlambert", letter_code(invited_pupil), HUGO_BIRTH_DATE)
    response = step_two(client, NEW_PASSWORD, again=NEW_PASSWORD + "x")
    assert response.status_code == 400
    assert "ne sont pas identiques" in text_of(response)


def test_password_step_needs_the_first_step(client: Client, invited_pupil: User) -> None:
    response = client.get("/activation/mot-de-passe/", follow=True)
    assert response.redirect_chain[-1][0] == "/activation/"
    assert "Cette étape a expiré" in text_of(response)


def test_fifth_wrong_code_kills_the_letter(client: Client, invited_pupil: User) -> None:
    code = letter_code(invited_pupil)
    for _ in range(codes.MAX_ATTEMPTS):
        step_one(client, "hlambert", "AAAA-BBBB-CCCC", HUGO_BIRTH_DATE)
    response = step_one(client, "hlambert", code, HUGO_BIRTH_DATE)
    assert response.status_code == 400


def test_many_failures_from_one_address_are_throttled(
    client: Client, invited_pupil: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(activation_views, "IP_FAILURES", 3)
    code = letter_code(invited_pupil)
    for _ in range(3):
        step_one(client, "inconnu", "AAAA-BBBB-CCCC", "")
    response = step_one(client, "hlambert", code, HUGO_BIRTH_DATE)
    assert response.status_code == 429
    assert "Trop d'essais" in text_of(response)
    assert response["Retry-After"]


def test_parallel_failures_cannot_slip_past_the_address_limit(
    client: Client, demo: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second attempt arriving while the first is being judged finds its place taken."""
    monkeypatch.setattr(activation_views, "IP_FAILURES", 1)
    parallel: list[int] = []

    def second_attempt(sender: Any, instance: AuditEvent, **kwargs: Any) -> None:
        if instance.event_type == events.ACTIVATION_FAILED.code and not parallel:
            parallel.append(0)
            parallel[0] = step_one(Client(), "inconnu", "AAAA-BBBB-CCCC").status_code

    post_save.connect(second_attempt, sender=AuditEvent, weak=False)
    try:
        first = step_one(client, "inconnu", "AAAA-BBBB-CCCC")
    finally:
        post_save.disconnect(second_attempt, sender=AuditEvent)

    assert (first.status_code, parallel) == (400, [429])


def test_staff_member_activates_without_a_birth_date(client: Client, referent: User) -> None:
    college = Establishment.objects.get(uai="0250013D")
    teacher = actions.create_account(
        acting_user=None,
        first_name="Marc",
        last_name="Dumas",
        birth_date=datetime.date(1980, 1, 1),
        roles=[RoleGrant(college, Role.ENSEIGNANT)],
    )
    response = step_one(client, teacher.login, letter_code(teacher, by=referent))
    assert response.status_code == 302
    assert step_two(client).status_code == 302
    teacher.refresh_from_db()
    assert teacher.state == AccountState.ACTIVE


def test_reprinted_letter_lets_an_active_pupil_choose_a_new_password(
    client: Client, pupil: User, referent: User
) -> None:
    activate(client, pupil, letter_code(pupil, by=referent), "2012-03-14")
    pupil.refresh_from_db()
    assert pupil.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.of_type(events.ACCOUNT_ACTIVATED).get(subject=pupil)
    assert event.data == {"reactivation": True}


def test_suspended_account_cannot_be_activated(client: Client, invited_pupil: User) -> None:
    code = letter_code(invited_pupil)
    User.objects.filter(pk=invited_pupil.pk).update(state=AccountState.SUSPENDED)
    response = step_one(client, "hlambert", code, HUGO_BIRTH_DATE)
    assert response.status_code == 400
    assert UNIFORM_ERROR in error_text(response)


def test_code_used_meanwhile_ends_the_password_step(client: Client, invited_pupil: User) -> None:
    code = letter_code(invited_pupil)
    step_one(client, "hlambert", code, HUGO_BIRTH_DATE)
    letter_code(invited_pupil)  # a reprint: the first code dies
    response = step_two(client)
    assert response["Location"] == "/activation/"
    invited_pupil.refresh_from_db()
    assert invited_pupil.state == AccountState.INVITED


def test_new_owner_adds_and_confirms_a_recovery_email(
    client: Client, invited_pupil: User, django_capture_on_commit_callbacks: Any
) -> None:
    activate(client, invited_pupil, letter_code(invited_pupil))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/activation/secours/", {"action": "email", "email": "Hugo.Secours@Exemple.fr"}
        )
    assert response.status_code == 302
    message = mail.outbox[-1]
    assert message.to == ["hugo.secours@exemple.fr"]
    sent = re.search(r"\b(\d{6})\b", message.body)
    assert sent

    wrong = "000000" if sent.group(1) != "000000" else "111111"
    response = client.post(
        "/activation/secours/", {"action": "confirm", "kind": "email", "code": wrong}
    )
    assert response.status_code == 400
    assert "n'est pas valable" in text_of(response)

    response = client.post(
        "/activation/secours/", {"action": "confirm", "kind": "email", "code": sent.group(1)}
    )
    assert response.status_code == 302
    invited_pupil.refresh_from_db()
    assert invited_pupil.recovery_email == "hugo.secours@exemple.fr"
    assert invited_pupil.recovery_email_confirmed_at is not None
    kinds = AuditEvent.objects.filter(subject=invited_pupil).values_list("event_type", flat=True)
    assert events.RECOVERY_CONTACT_CHANGED.code in kinds
    assert events.RECOVERY_CONTACT_CONFIRMED.code in kinds


def test_new_owner_adds_and_confirms_a_recovery_phone(
    client: Client, invited_pupil: User, settings: Any
) -> None:
    settings.SMS_BACKEND = "outbox"
    activate(client, invited_pupil, letter_code(invited_pupil))
    response = client.post(
        "/activation/secours/", {"action": "phone", "telephone": "06 12 34 56 78"}
    )
    assert response.status_code == 302
    sms = SmsMessage.objects.get()
    assert sms.to == "+33612345678"
    sent = re.search(r"\b(\d{6})\b", sms.body)
    assert sent
    page = client.get("/activation/secours/")
    assert "06 •• •• •• 78" in text_of(page)
    client.post(
        "/activation/secours/", {"action": "confirm", "kind": "phone", "code": sent.group(1)}
    )
    invited_pupil.refresh_from_db()
    assert invited_pupil.recovery_phone_confirmed_at is not None


def test_recovery_phone_must_be_a_french_mobile(client: Client, invited_pupil: User) -> None:
    activate(client, invited_pupil, letter_code(invited_pupil))
    response = client.post(
        "/activation/secours/", {"action": "phone", "telephone": "01 23 45 67 89"}
    )
    assert response.status_code == 400
    assert "mobile français" in text_of(response)
    assert not SmsMessage.objects.exists()


def test_confirmation_code_sent_to_an_old_address_does_not_confirm_a_new_one(
    invited_pupil: User, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        actions.set_recovery_email(user=invited_pupil, email="ancienne@exemple.fr")
    old_code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)
    assert old_code
    actions.set_recovery_email(user=invited_pupil, email="nouvelle@exemple.fr")
    with pytest.raises(actions.RecoveryContactError):
        actions.confirm_recovery_contact(user=invited_pupil, kind="email", code=old_code.group(1))


def test_account_recovery_page_needs_sign_in(client: Client) -> None:
    response = client.get("/compte/secours/")
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")


def test_signed_in_person_manages_recovery_contacts(
    client: Client, pupil: User, django_capture_on_commit_callbacks: Any
) -> None:
    client.force_login(pupil)
    assert client.get("/compte/secours/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/compte/secours/", {"action": "email", "email": "lea@exemple.fr"})
    assert mail.outbox[-1].to == ["lea@exemple.fr"]
    response = client.post("/compte/secours/", {"action": "remove_email"})
    assert response.status_code == 302
    pupil.refresh_from_db()
    assert pupil.recovery_email == ""


def test_confirmation_codes_sent_per_account_are_limited(
    client: Client, pupil: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(activation_views, "SENDS_PER_WINDOW", 2)
    client.force_login(pupil)
    for _ in range(2):
        client.post("/compte/secours/", {"action": "email", "email": "lea@exemple.fr"})
    response = client.post("/compte/secours/", {"action": "email", "email": "lea@exemple.fr"})
    assert response.status_code == 429
    assert OneTimeCode.objects.filter(purpose=OneTimeCodePurpose.CONFIRM_EMAIL).count() == 2


def test_refused_activation_links_to_the_guide_of_its_code(
    client: Client, invited_pupil: User
) -> None:
    response = step_one(client, "personne-inconnue", letter_code(invited_pupil), HUGO_BIRTH_DATE)

    assert response.status_code == 400
    assert '<a href="/aide/erreurs/CONV-400-ACTIVATION/">CONV-400-ACTIVATION</a>' in text_of(
        response
    )
    guide = Client().get("/aide/erreurs/CONV-400-ACTIVATION/")
    assert guide.status_code == 200
    assert 'href="/aide/guides/activer-mon-compte/"' in text_of(guide)
