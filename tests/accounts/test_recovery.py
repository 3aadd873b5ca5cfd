"""Forgotten password (link by e-mail, code by SMS) and forgotten login, told as stories."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from convergence.accounts import events
from convergence.accounts.models import OneTimeCode, OneTimeCodePurpose, User
from convergence.audit.actions import digest_identifier
from convergence.audit.models import AuditEvent
from convergence.devices.sessions import store
from convergence.outbox.models import SmsMessage
from tests.helpers import text_of

NEW_PASSWORD = "Baleine-Cerf-Grenade-Lampe-17"
LINK = re.compile(r"https?://[^/\s]+(/mot-de-passe-oublie/cle/[^/\s]+/)")
LEA_RECOVERY = "lea.martin.secours@exemple.fr"
LEA_PHONE = "+33612345678"


def main_of(response: Any) -> str:
    """The page's main content, without the per-session CSRF token."""
    found = re.search(r"<main.*?</main>", text_of(response), re.DOTALL)
    assert found, "no main content"
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", found.group(0))


def confirm_recovery(user: User, *, email: str = "", phone: str = "") -> User:
    now = timezone.now()
    if email:
        user.recovery_email, user.recovery_email_confirmed_at = email, now
    if phone:
        user.recovery_phone, user.recovery_phone_confirmed_at = phone, now
    user.save()
    return user


def ask_reset(client: Client, identifier: str, channel: str = "email") -> Any:
    return client.post("/mot-de-passe-oublie/", {"identifier": identifier, "channel": channel})


def link_in(message: Any) -> str:
    found = LINK.search(message.body)
    assert found, "no reset link in the message"
    return found.group(1)


def sms_code() -> str:
    found = re.search(r"\b(\d{6})\b", SmsMessage.objects.latest("sent_at").body)
    assert found, "no code in the SMS"
    return found.group(1)


def wrong_code(right: str) -> str:
    return "000000" if right != "000000" else "111111"


def choose_password(client: Client, password: str = NEW_PASSWORD) -> Any:
    return client.post(
        "/mot-de-passe-oublie/nouveau/", {"password1": password, "password2": password}
    )


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings: Any) -> None:
    """Mail and SMS go out through the task worker; here it runs inside enqueue."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def lea(pupil: User) -> User:
    return confirm_recovery(pupil, email=LEA_RECOVERY, phone=LEA_PHONE)


# --- The same answer whoever asks --------------------------------------------------------


def test_request_answers_the_same_for_existing_and_unknown_accounts(
    client: Client, lea: User
) -> None:
    known = ask_reset(client, lea.login)
    unknown = ask_reset(Client(), "personne-inconnue")

    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url == "/mot-de-passe-oublie/envoye/"
    assert main_of(client.get(known.url)) == main_of(Client().get(unknown.url))
    assert [message.to for message in mail.outbox] == [[LEA_RECOVERY]]


def test_request_answers_the_same_without_a_confirmed_contact(client: Client, pupil: User) -> None:
    pupil.recovery_email = "pas.confirmee@exemple.fr"  # typed but never confirmed
    pupil.save()

    response = ask_reset(client, pupil.login)

    assert response.url == "/mot-de-passe-oublie/envoye/"
    assert mail.outbox == []


def test_sms_request_answers_the_same_for_unknown_accounts(client: Client, lea: User) -> None:
    known = ask_reset(client, lea.login, "sms")
    unknown_client = Client()
    unknown = ask_reset(unknown_client, "personne-inconnue", "sms")

    assert known.url == unknown.url == "/mot-de-passe-oublie/code/"
    assert main_of(client.get(known.url)) == main_of(unknown_client.get(unknown.url))
    assert SmsMessage.objects.count() == 1


def test_sending_is_left_to_the_worker_for_everyone(
    client: Client, lea: User, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    ask_reset(client, lea.login)
    ask_reset(client, "personne-inconnue")

    assert mail.outbox == []
    assert not OneTimeCode.objects.exists()
    queued = list(DBTaskResult.objects.all())
    assert {row.task_path for row in queued} == {
        "convergence.accounts.actions.recovery.deliver_password_reset"
    }
    assert sorted(str(row.args_kwargs["kwargs"]["user_pk"]) for row in queued) == sorted(
        [str(lea.pk), "None"]
    )


def test_invited_account_gets_nothing(client: Client, invited_pupil: User) -> None:
    confirm_recovery(invited_pupil, email="hugo@exemple.fr")

    assert ask_reset(client, invited_pupil.login).url == "/mot-de-passe-oublie/envoye/"
    assert mail.outbox == []


def test_empty_identifier_gets_a_french_error(client: Client, demo: None) -> None:
    response = client.post("/mot-de-passe-oublie/", {"identifier": "", "channel": "email"})

    assert response.status_code == 400
    assert "Saisissez votre identifiant" in text_of(response)


def test_unknown_channel_is_refused(client: Client, lea: User) -> None:
    response = ask_reset(client, lea.login, "pigeon")

    assert response.status_code == 400
    assert mail.outbox == []


# --- E-mail link -------------------------------------------------------------------------


def test_link_goes_to_the_confirmed_recovery_address(client: Client, lea: User) -> None:
    ask_reset(client, lea.login)

    [message] = mail.outbox
    assert message.to == [LEA_RECOVERY]
    assert "30 minutes" in message.body
    code = OneTimeCode.objects.get(user=lea, purpose=OneTimeCodePurpose.PASSWORD_RESET)
    assert link_in(message).split("/")[-2] not in code.digest  # only a digest is stored


def test_parent_gets_the_link_at_their_own_address(client: Client, parent: User) -> None:
    ask_reset(client, "karim.martin@exemple.fr")

    [message] = mail.outbox
    assert message.to == ["karim.martin@exemple.fr"]


def test_staff_academic_address_is_not_a_recovery_address(client: Client, teacher: User) -> None:
    # A forgotten password also locks the academic webmail: the link would be unreadable.
    ask_reset(client, teacher.login)

    assert mail.outbox == []


def test_staff_get_the_link_at_their_confirmed_recovery_address(
    client: Client, teacher: User
) -> None:
    confirm_recovery(teacher, email="sophie.perso@exemple.fr")

    ask_reset(client, teacher.login)

    assert [message.to for message in mail.outbox] == [["sophie.perso@exemple.fr"]]


def test_link_resets_the_password_without_signing_in(
    client: Client, lea: User, django_capture_on_commit_callbacks: Any
) -> None:
    ask_reset(client, lea.login)
    opened = client.get(link_in(mail.outbox[0]))
    assert opened.url == "/mot-de-passe-oublie/nouveau/"  # the token leaves the address bar
    page = client.get(opened.url)
    assert page.status_code == 200
    assert "Élèves et parents" in text_of(page)  # the pupil's policy is shown

    with django_capture_on_commit_callbacks(execute=True):
        done = choose_password(client)

    assert done.url == "/mot-de-passe-oublie/termine/"
    lea.refresh_from_db()
    assert lea.check_password(NEW_PASSWORD)
    assert "_auth_user_id" not in client.session
    assert client.get("/compte/").status_code == 302  # still anonymous
    assert mail.outbox[-1].to == [LEA_RECOVERY]
    assert "vient d'être changé" in mail.outbox[-1].body


def test_meter_judges_the_account_being_reset_by_its_own_policy(client: Client, lea: User) -> None:
    # Strong enough for a pupil (50 bits), too weak for the staff policy (80 bits) that an
    # anonymous visitor's meter applies.
    password = "Velours-Cactus-92"
    meter = reverse("accounts:password_strength")
    anonymous = Client().post(meter, {"password1": password})
    assert "conforme à la politique" not in text_of(anonymous)

    ask_reset(client, lea.login)
    client.get(link_in(mail.outbox[0]))
    during_reset = client.post(meter, {"password1": password})

    assert "conforme à la politique" in text_of(during_reset)


def test_link_is_single_use(client: Client, lea: User) -> None:
    ask_reset(client, lea.login)
    link = link_in(mail.outbox[0])
    client.get(link)
    choose_password(client)

    again = client.get(client.get(link).url)

    assert again.status_code == 400
    assert "n'est plus valable" in text_of(again)
    assert choose_password(client, "Autre-Mot-De-Passe-42").status_code == 400
    lea.refresh_from_db()
    assert lea.check_password(NEW_PASSWORD)


def test_expired_link_is_refused(client: Client, lea: User) -> None:
    ask_reset(client, lea.login)
    OneTimeCode.objects.filter(user=lea).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    page = client.get(client.get(link_in(mail.outbox[0])).url)

    assert page.status_code == 400
    assert "n'est plus valable" in text_of(page)


def test_link_lives_thirty_minutes(client: Client, lea: User) -> None:
    before = timezone.now()
    ask_reset(client, lea.login)

    code = OneTimeCode.objects.get(user=lea)
    assert before + datetime.timedelta(minutes=30) <= code.expires_at
    assert code.expires_at <= timezone.now() + datetime.timedelta(minutes=30)


def test_a_new_request_kills_the_previous_link(client: Client, lea: User) -> None:
    ask_reset(client, lea.login)
    ask_reset(client, lea.login)
    first, second = (link_in(message) for message in mail.outbox)

    assert client.get(client.get(first).url).status_code == 400
    assert client.get(client.get(second).url).status_code == 200


def test_forged_link_is_refused(client: Client, demo: None) -> None:
    page = client.get(client.get("/mot-de-passe-oublie/cle/nimportequoi/").url)

    assert page.status_code == 400


def test_new_password_must_meet_the_policy(client: Client, lea: User) -> None:
    ask_reset(client, lea.login)
    client.get(link_in(mail.outbox[0]))

    weak = choose_password(client, "soleil")

    assert weak.status_code == 400
    lea.refresh_from_db()
    assert lea.check_password(lea.demo_password)
    assert choose_password(client).status_code == 302  # the link still works


def test_mismatched_passwords_are_refused(client: Client, lea: User) -> None:
    ask_reset(client, lea.login)
    client.get(link_in(mail.outbox[0]))

    response = client.post(
        "/mot-de-passe-oublie/nouveau/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"},
    )

    assert response.status_code == 400
    assert "ne sont pas identiques" in text_of(response)


def test_reset_ends_every_session_of_the_account(client: Client, lea: User) -> None:
    elsewhere = Client()
    assert (
        elsewhere.post(
            "/connexion/", {"login": lea.login, "password": lea.demo_password}
        ).status_code
        == 302
    )
    assert len(store().sessions_of(lea)) == 1

    ask_reset(client, lea.login)
    client.get(link_in(mail.outbox[0]))
    choose_password(client)

    # Gone from the session store, not only refused (its password hash no longer matches).
    assert store().sessions_of(lea) == []
    assert elsewhere.get("/compte/").status_code == 302
    event = AuditEvent.objects.of_type(events.PASSWORD_RESET).get(subject=lea)
    assert event.data["sessions_ended"] == 1


def test_reset_never_bypasses_the_second_factor(client: Client, lea: User) -> None:
    Authenticator.objects.create(
        user=lea, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    ask_reset(client, lea.login)
    client.get(link_in(mail.outbox[0]))
    choose_password(client)

    response = client.post("/connexion/", {"login": lea.login, "password": NEW_PASSWORD})

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session  # the second factor is still asked
    assert client.get("/compte/").status_code == 302


# --- SMS code ----------------------------------------------------------------------------


def test_sms_code_leads_to_a_new_password(client: Client, lea: User) -> None:
    ask_reset(client, lea.login, "sms")
    message = SmsMessage.objects.get()
    assert message.to == LEA_PHONE
    assert mail.outbox == []

    entered = client.post("/mot-de-passe-oublie/code/", {"code": sms_code()})
    assert entered.url == "/mot-de-passe-oublie/nouveau/"
    assert choose_password(client).url == "/mot-de-passe-oublie/termine/"

    lea.refresh_from_db()
    assert lea.check_password(NEW_PASSWORD)
    assert "_auth_user_id" not in client.session
    reset = AuditEvent.objects.get(event_type=events.PASSWORD_RESET.code)
    assert reset.data["channel"] == "sms"


def test_sms_code_is_single_use(client: Client, lea: User) -> None:
    ask_reset(client, lea.login, "sms")
    code = sms_code()
    client.post("/mot-de-passe-oublie/code/", {"code": code})
    choose_password(client)

    other = Client()
    ask_reset(other, "personne-inconnue", "sms")  # any pending request on that browser
    assert other.post("/mot-de-passe-oublie/code/", {"code": code}).status_code == 400


def test_code_with_spaces_is_accepted(client: Client, lea: User) -> None:
    ask_reset(client, lea.login, "sms")
    code = sms_code()

    entered = client.post("/mot-de-passe-oublie/code/", {"code": f"{code[:3]} {code[3:]}"})

    assert entered.status_code == 302


def test_staff_get_no_sms(client: Client, teacher: User) -> None:
    confirm_recovery(teacher, phone="+33698765432")

    response = ask_reset(client, teacher.login, "sms")

    assert response.url == "/mot-de-passe-oublie/code/"  # the same page as anyone
    assert not SmsMessage.objects.exists()
    assert not OneTimeCode.objects.filter(user=teacher).exists()
    request = AuditEvent.objects.get(event_type=events.PASSWORD_RESET_REQUESTED.code)
    assert request.data == {"channel": "sms", "outcome": "staff_no_sms"}


def test_wrong_codes_exhaust_the_code(client: Client, lea: User) -> None:
    ask_reset(client, lea.login, "sms")
    right = sms_code()

    for _ in range(5):
        response = client.post("/mot-de-passe-oublie/code/", {"code": wrong_code(right)})
        assert response.status_code == 400
        assert "n'est pas valable" in text_of(response)

    assert client.post("/mot-de-passe-oublie/code/", {"code": right}).status_code == 400
    assert AuditEvent.objects.filter(event_type="password.reset_code_failed").count() == 6


def test_code_page_answers_the_same_for_an_unknown_account(client: Client, lea: User) -> None:
    ask_reset(client, "personne-inconnue", "sms")

    response = client.post("/mot-de-passe-oublie/code/", {"code": "123456"})

    assert response.status_code == 400
    assert "n'est pas valable" in text_of(response)


def test_malformed_code_gets_a_french_error(client: Client, lea: User) -> None:
    ask_reset(client, lea.login, "sms")

    response = client.post("/mot-de-passe-oublie/code/", {"code": "12ab"})

    assert response.status_code == 400
    assert "6 chiffres" in text_of(response)


def test_code_page_without_a_request_goes_back_to_the_start(client: Client, demo: None) -> None:
    assert client.get("/mot-de-passe-oublie/code/").url == "/mot-de-passe-oublie/"


def test_failing_sms_provider_still_shows_the_same_page(
    client: Client, lea: User, settings: Any
) -> None:
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = "http://127.0.0.1:9/"  # discard port: nothing answers
    settings.SMS_TIMEOUT_SECONDS = 0.5

    response = ask_reset(client, lea.login, "sms")

    assert response.url == "/mot-de-passe-oublie/code/"
    failed = AuditEvent.objects.get(event_type="password.reset_delivery_failed")
    assert (failed.subject, failed.data) == (lea, {"channel": "sms"})


# --- Rate limits -------------------------------------------------------------------------


def test_too_many_requests_for_one_identifier_from_one_address_get_a_french_429(
    client: Client, lea: User, settings: Any
) -> None:
    settings.RECOVERY_IDENTIFIER_LIMIT = 2
    ask_reset(client, lea.login)
    ask_reset(client, "lea.martin.secours@exemple.fr")  # another identifier: its own counter
    ask_reset(client, lea.login)

    response = ask_reset(client, lea.login)

    assert response.status_code == 429
    assert "Trop de demandes" in text_of(response)
    assert int(response.headers["Retry-After"]) > 0
    assert len(mail.outbox) == 2
    throttled = AuditEvent.objects.get(event_type="recovery.throttled")
    assert throttled.data["kind"] == "password"


def test_unknown_identifiers_are_limited_alike(client: Client, demo: None, settings: Any) -> None:
    settings.RECOVERY_IDENTIFIER_LIMIT = 1
    ask_reset(client, "personne-inconnue")

    assert ask_reset(client, "personne-inconnue").status_code == 429


def test_too_many_requests_from_one_address_get_a_429(
    client: Client, demo: None, settings: Any
) -> None:
    settings.RECOVERY_IP_LIMIT = 3
    for number in range(3):
        assert ask_reset(client, f"inconnu{number}").status_code == 302

    assert ask_reset(client, "inconnu9").status_code == 429
    assert ask_reset(Client(REMOTE_ADDR="198.51.100.9"), "inconnu9").status_code == 302


def test_codes_typed_from_one_address_are_limited(client: Client, lea: User, settings: Any) -> None:
    settings.RECOVERY_IP_LIMIT = 3
    ask_reset(client, lea.login, "sms")
    right = sms_code()
    for _ in range(3):
        client.post("/mot-de-passe-oublie/code/", {"code": wrong_code(right)})

    assert client.post("/mot-de-passe-oublie/code/", {"code": right}).status_code == 429


# --- Audit -------------------------------------------------------------------------------


def test_request_is_audited_with_the_account(client: Client, lea: User) -> None:
    ask_reset(client, lea.login)

    event = AuditEvent.objects.get(event_type=events.PASSWORD_RESET_REQUESTED.code)
    assert event.subject == lea
    assert event.data == {"channel": "email", "outcome": "sent"}


def test_request_for_unknown_account_is_audited_by_digest(client: Client, demo: None) -> None:
    ask_reset(client, "Personne-Inconnue")

    event = AuditEvent.objects.get(event_type=events.PASSWORD_RESET_REQUESTED.code)
    assert event.subject is None
    assert event.identifier_digest == digest_identifier("personne-inconnue")
    assert event.data["outcome"] == "unknown_account"


def test_reset_is_audited_without_secrets(client: Client, lea: User) -> None:
    ask_reset(client, lea.login)
    link = link_in(mail.outbox[0])
    client.get(link)
    choose_password(client)

    event = AuditEvent.objects.get(event_type=events.PASSWORD_RESET.code)
    assert (event.actor, event.subject) == (lea, lea)
    assert event.data["channel"] == "email"
    token = link.split("/")[-2]
    assert all(
        token not in str(row.data) and NEW_PASSWORD not in str(row.data)
        for row in AuditEvent.objects.all()
    )


# --- Forgotten login ---------------------------------------------------------------------


def ask_login(client: Client, email: str) -> Any:
    return client.post("/identifiant-oublie/", {"email": email})


def test_parent_receives_their_login(client: Client, parent: User) -> None:
    response = ask_login(client, "Karim.Martin@exemple.fr")

    assert response.url == "/identifiant-oublie/envoye/"
    [message] = mail.outbox
    assert message.to == ["karim.martin@exemple.fr"]
    assert parent.login in message.body


def test_every_login_sharing_a_recovery_address_is_sent(
    client: Client, pupil: User, pupil_in_dole: User
) -> None:
    confirm_recovery(pupil, email="famille.martin@exemple.fr")
    confirm_recovery(pupil_in_dole, email="famille.martin@exemple.fr")

    ask_login(client, "famille.martin@exemple.fr")

    [message] = mail.outbox
    assert pupil.login in message.body
    assert pupil_in_dole.login in message.body
    audited = AuditEvent.objects.filter(event_type=events.LOGIN_REMINDER_SENT.code)
    assert {event.subject for event in audited} == {pupil, pupil_in_dole}


def test_unconfirmed_recovery_address_gets_no_login(client: Client, pupil: User) -> None:
    pupil.recovery_email = "pas.confirmee@exemple.fr"
    pupil.save()

    ask_login(client, "pas.confirmee@exemple.fr")

    assert mail.outbox == []


def test_forgotten_login_answers_the_same_for_unknown_addresses(
    client: Client, parent: User
) -> None:
    known = ask_login(client, "karim.martin@exemple.fr")
    unknown = ask_login(Client(), "inconnu@exemple.fr")

    assert known.url == unknown.url
    assert len(mail.outbox) == 1
    event = AuditEvent.objects.get(event_type=events.LOGIN_REMINDER_SENT.code, subject__isnull=True)
    assert event.identifier_digest == digest_identifier("inconnu@exemple.fr")


def test_forgotten_login_needs_a_valid_address(client: Client, demo: None) -> None:
    response = ask_login(client, "pas-une-adresse")

    assert response.status_code == 400
    assert "adresse électronique valide" in text_of(response)


def test_forgotten_login_is_rate_limited(client: Client, parent: User, settings: Any) -> None:
    settings.RECOVERY_IDENTIFIER_LIMIT = 2
    for _ in range(2):
        ask_login(client, "karim.martin@exemple.fr")

    response = ask_login(client, "karim.martin@exemple.fr")

    assert response.status_code == 429
    assert len(mail.outbox) == 2


def test_pages_are_reachable_from_the_sign_in_page(client: Client, demo: None) -> None:
    page = text_of(client.get("/mot-de-passe-oublie/"))

    assert 'href="/identifiant-oublie/"' in page
    assert 'type="radio"' in page


def test_reset_link_names_the_official_host_whatever_the_request_said(
    client: Client, lea: User, settings: Any
) -> None:
    """A forged Host header must not turn the reset link into a link to another server."""
    from convergence.core.links import portal_host

    settings.ALLOWED_HOSTS = ["*"]
    mail.outbox.clear()
    client.post(
        "/mot-de-passe-oublie/",
        {"identifier": lea.login, "channel": "email"},
        HTTP_HOST="attacker.example",
    )
    body = mail.outbox[-1].body
    assert f"://{portal_host()}/mot-de-passe-oublie/cle/" in body
    assert "attacker.example" not in body


def test_a_reset_from_a_browser_signed_in_to_the_account_ends_well(
    client: Client, lea: User
) -> None:
    """The person is still signed in here (or an attacker is, and the person resets from the
    same browser): the reset succeeds, this browser ends signed out, the page is no error."""
    assert (
        client.post("/connexion/", {"login": lea.login, "password": lea.demo_password}).status_code
        == 302
    )
    ask_reset(client, lea.login)
    client.get(link_in(mail.outbox[0]))
    done = choose_password(client)
    assert done.status_code == 302
    assert done.url == "/mot-de-passe-oublie/termine/"
    lea.refresh_from_db()
    assert lea.check_password(NEW_PASSWORD)
    assert client.get("/compte/").status_code == 302
    assert store().sessions_of(lea) == []


# --- Every refusal links to its guide -----------------------------------------------------

RECOVERY_CODE_LINK = '<a href="/aide/erreurs/CONV-400-SECOURS/">CONV-400-SECOURS</a>'


def test_used_link_page_links_to_the_guide_of_its_code(client: Client, lea: User) -> None:
    ask_reset(client, lea.login)
    link = link_in(mail.outbox[0])
    client.get(link)
    choose_password(client)

    again = client.get(client.get(link).url)

    assert again.status_code == 400
    assert RECOVERY_CODE_LINK in text_of(again)
    guide = Client().get("/aide/erreurs/CONV-400-SECOURS/")
    assert guide.status_code == 200
    assert 'href="/aide/guides/mot-de-passe-oublie/"' in text_of(guide)


def test_wrong_sms_code_links_to_the_guide_whatever_the_account(client: Client, lea: User) -> None:
    ask_reset(client, lea.login, "sms")
    known = client.post("/mot-de-passe-oublie/code/", {"code": wrong_code(sms_code())})
    stranger = Client()
    ask_reset(stranger, "personne-inconnue", "sms")
    unknown = stranger.post("/mot-de-passe-oublie/code/", {"code": "123456"})

    assert known.status_code == unknown.status_code == 400
    assert RECOVERY_CODE_LINK in text_of(known)
    assert RECOVERY_CODE_LINK in text_of(unknown)


def test_sms_code_page_shows_no_code_before_an_attempt(client: Client, lea: User) -> None:
    ask_reset(client, lea.login, "sms")

    assert "CONV-400-SECOURS" not in text_of(client.get("/mot-de-passe-oublie/code/"))
