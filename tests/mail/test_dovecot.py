# ruff: noqa: F811 - the fixtures imported below are test arguments of the same name
"""The académie's Dovecot, configured from deploy/mail/dovecot/, asks the portal about every
login: the webmail's OAuth tokens by introspection, app passwords through checkpassword.
Mail is delivered by LMTP and read back over IMAP."""

from __future__ import annotations

import imaplib
import shutil
import smtplib
import sys
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from convergence.accounts.actions.accounts import change_account_state
from convergence.accounts.models import AccountState
from convergence.mail.actions import create_app_password
from convergence.sso.actions.tokens import issue_first_party_token
from deploy.mail.dovecot import Dovecot
from tests.mail.dovecot import (  # noqa: F401 - fixtures
    dovecot,
    dovecot_instance,
    start_dovecot,
)

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 5


def webmail_token(person: Any) -> str:
    token, _expires = issue_first_party_token(
        user=person,
        client_id=settings.MAIL_WEBMAIL_CLIENT_ID,
        name="Messagerie",
        scope="mail",
        seconds=300,
    )
    return token


def imap(server: Dovecot) -> IMAPClient:
    return IMAPClient("127.0.0.1", port=server.imap_port, ssl=False, timeout=TIMEOUT)


def xoauth2_refused(server: Dovecot, login: str, token: str) -> bool:
    """Whether Dovecot refuses the XOAUTH2 login. On a refusal the server sends its error as
    a challenge that the client must answer with an empty line (imapclient answers with the
    token again and waits), so the exchange is driven here by imaplib."""
    initial = f"user={login}\x01auth=Bearer {token}\x01\x01".encode()
    challenges: list[bytes] = []

    def answer(challenge: bytes) -> bytes:
        challenges.append(challenge)
        return initial if len(challenges) == 1 else b""

    connection = imaplib.IMAP4("127.0.0.1", server.imap_port, timeout=TIMEOUT)
    try:
        connection.authenticate("XOAUTH2", answer)
    except imaplib.IMAP4.error:
        return True
    finally:
        connection.shutdown()
    return False


def test_webmail_token_logs_in_with_xoauth2(dovecot: Dovecot, teacher: Any) -> None:
    with imap(dovecot) as client:
        client.oauth2_login(teacher.login, webmail_token(teacher))

        capabilities = client.capabilities()
        inbox = client.select_folder("INBOX")

    assert teacher.login == "sbernard"
    assert {b"SORT", b"THREAD=REFERENCES", b"ESEARCH"} <= set(capabilities)
    assert b"EXISTS" in inbox


def test_webmail_token_logs_in_with_oauthbearer(dovecot: Dovecot, teacher: Any) -> None:
    with imap(dovecot) as client:
        client.oauthbearer_login(teacher.login, webmail_token(teacher))

        assert b"EXISTS" in client.select_folder("INBOX")


def test_unknown_token_is_refused(dovecot: Dovecot, teacher: Any) -> None:
    assert xoauth2_refused(dovecot, teacher.login, "jeton-inconnu")


def test_a_token_held_by_a_service_of_the_catalogue_is_refused(
    dovecot: Dovecot, teacher: Any
) -> None:
    """A relying party holds the person's token too (scopes openid, profile…): it must not
    open the mailbox. Only the webmail's tokens (scope "mail") do."""
    token, _expires = issue_first_party_token(
        user=teacher, client_id="arena", name="Arena", scope="openid profile", seconds=300
    )
    assert xoauth2_refused(dovecot, teacher.login, token)


def test_token_of_another_person_is_refused(dovecot: Dovecot, teacher: Any, pupil: Any) -> None:
    assert xoauth2_refused(dovecot, pupil.login, webmail_token(teacher))


def test_revoked_token_is_refused_at_the_next_login(dovecot: Dovecot, teacher: Any) -> None:
    from oauth2_provider.models import AccessToken

    token = webmail_token(teacher)
    with imap(dovecot) as client:
        client.oauth2_login(teacher.login, token)
    AccessToken.objects.filter(user=teacher).delete()

    assert xoauth2_refused(dovecot, teacher.login, token)


def test_token_of_suspended_person_is_refused(dovecot: Dovecot, teacher: Any) -> None:
    token = webmail_token(teacher)
    assert not xoauth2_refused(dovecot, teacher.login, token)
    change_account_state(acting_user=None, user=teacher, state=AccountState.SUSPENDED)

    assert xoauth2_refused(dovecot, teacher.login, token)


def test_message_delivered_by_lmtp_lands_in_the_inbox(dovecot: Dovecot, teacher: Any) -> None:
    message = EmailMessage()
    message["From"] = "secretariat@ac-exemple.fr"
    message["To"] = "sbernard@ac-exemple.fr"
    message["Subject"] = "Conseil de classe de la 4e B"
    message.set_content("Le conseil de classe aura lieu jeudi à 17 h.")
    with smtplib.LMTP("127.0.0.1", dovecot.lmtp_port, timeout=TIMEOUT) as lmtp:
        refused = lmtp.send_message(message, to_addrs=[f"{teacher.login}@ac-exemple.fr"])
    assert refused == {}

    with imap(dovecot) as client:
        client.oauth2_login(teacher.login, webmail_token(teacher))
        client.select_folder("INBOX")
        found = client.search(["SUBJECT", "Conseil de classe"])
        fetched = client.fetch(found, ["ENVELOPE"])

    assert found
    assert fetched[found[-1]][b"ENVELOPE"].subject.decode() == "Conseil de classe de la 4e B"


def test_app_password_logs_in_through_the_portal(dovecot: Dovecot, teacher: Any) -> None:
    new = create_app_password(user=teacher, label="iPhone de Sophie", device="iphone")

    with imap(dovecot) as client:
        client.login(teacher.login, new.secret)

        assert b"EXISTS" in client.select_folder("INBOX")


def test_revoked_app_password_is_refused_by_dovecot(dovecot: Dovecot, teacher: Any) -> None:
    from convergence.mail.actions import revoke_app_password

    new = create_app_password(user=teacher, label="Téléphone perdu", device="android")
    with imap(dovecot) as client:
        client.login(teacher.login, new.secret)
    revoke_app_password(app_password=new.app_password, actor=teacher)
    with imap(dovecot) as client, pytest.raises(LoginError):
        client.login(teacher.login, new.secret)


def test_revoking_closes_a_session_already_open(
    dovecot: Dovecot, teacher: Any, settings: Any
) -> None:
    """A phone connected with IDLE keeps its session after the check at login: the portal
    asks Dovecot (doveadm's HTTP API) to close it, and its next command fails."""
    from imapclient.exceptions import IMAPClientError

    from convergence.mail.actions import revoke_app_password

    settings.MAIL_DOVEADM_URL = f"http://127.0.0.1:{dovecot.doveadm_port}"
    settings.MAIL_DOVEADM_API_KEY = dovecot.doveadm_api_key
    new = create_app_password(user=teacher, label="Téléphone volé", device="iphone")
    phone = imap(dovecot)
    phone.login(teacher.login, new.secret)
    phone.select_folder("INBOX")
    revoke_app_password(app_password=new.app_password, actor=teacher)
    with pytest.raises((IMAPClientError, OSError)):
        for _ in range(20):  # the kick is asynchronous on Dovecot's side: bounded wait
            phone.noop()
            time.sleep(0.1)
    with imap(dovecot) as again, pytest.raises(LoginError):
        again.login(teacher.login, new.secret)


def test_wrong_app_password_is_refused(dovecot: Dovecot, teacher: Any) -> None:
    create_app_password(user=teacher, label="iPhone de Sophie", device="iphone")

    with imap(dovecot) as client, pytest.raises(LoginError):
        client.login(teacher.login, "pas-le-bon-mot-de-passe")


def test_app_password_is_refused_when_the_portal_does_not_answer(teacher: Any) -> None:
    """Fail closed: a Dovecot whose portal is unreachable refuses, and answers at once."""
    from tests.mail.dovecot import require_dovecot

    require_dovecot()
    new = create_app_password(user=teacher, label="iPhone de Sophie", device="iphone")
    # Port 9 (discard) has nothing listening on the loopback: connection refused.
    server = start_dovecot("http://127.0.0.1:9")
    try:
        started = time.monotonic()
        with imap(server) as client, pytest.raises(LoginError):
            client.login(teacher.login, new.secret)
        assert time.monotonic() - started < TIMEOUT
        assert "portal not asked" in server.log_text()
    finally:
        server.stop()
        sys.stdout.write(server.log_text())
        shutil.rmtree(server.directory, ignore_errors=True)


def test_secrets_of_the_rendered_configuration_are_private(dovecot: Dovecot) -> None:
    for name in ("dovecot-oauth2.conf.ext", "checkpassword.conf"):
        mode = (Path(dovecot.directory) / name).stat().st_mode & 0o777
        assert mode == 0o640, name


def test_plaintext_imap_is_only_on_the_loopback(dovecot: Dovecot) -> None:
    rendered = (dovecot.directory / "conf.d" / "30-listeners.conf").read_text()

    assert "listen = 127.0.0.1\n" in rendered
    assert imaplib.IMAP4("127.0.0.1", dovecot.imap_port, timeout=TIMEOUT).logout()[0] == "BYE"
