"""The webmail's one adapter to the académie's submission server (Postfix in production, the
demo's aiosmtpd on a fresh machine): the person's message, authenticated with their own
token (SASL XOAUTH2 or OAUTHBEARER), every exchange bounded by ``MAIL_TIMEOUT_SECONDS``.

A refusal of the server (a recipient refused, a message too large, a sender the person may not
use) is :class:`SendRefused`, shown in French with the draft kept; a server that cannot be
reached is :class:`~convergence.mail.connections.MailUnavailable`.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
from email.message import EmailMessage

from django.conf import settings

from convergence.accounts.models import User
from convergence.mail import compose
from convergence.mail.connections import MailUnavailable, forget_token, token_for


class SendRefused(Exception):
    """The server refused the message; ``code`` is its SMTP reply code."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


def _sasl_payload(mechanism: str, login: str, token: str) -> str:
    if mechanism == "OAUTHBEARER":
        return f"n,a={login},\x01auth=Bearer {token}\x01\x01"
    return f"user={login}\x01auth=Bearer {token}\x01\x01"


def _authenticate(smtp: smtplib.SMTP, login: str, token: str) -> None:
    mechanism = settings.MAIL_SASL_MECHANISM.upper()
    if mechanism != "OAUTHBEARER":
        mechanism = "XOAUTH2"
    payload = _sasl_payload(mechanism, login, token)
    # An error challenge (334 with a JSON status) is answered with an empty response so that
    # the server says NO at once instead of waiting for the timeout (RFC 7628 §3.2.3).
    code, reply = smtp.docmd("AUTH", f"{mechanism} {base64.b64encode(payload.encode()).decode()}")
    if code == 334:
        code, reply = smtp.docmd("")
    if code != 235:
        raise AuthRefused(code, reply.decode("utf-8", "replace"))


class AuthRefused(SendRefused):
    """The server refused the person's token (expired, revoked at a sign-out elsewhere)."""


def send(user: User, message: EmailMessage, recipients: list[str]) -> dict[str, str]:
    """Submit ``message`` to ``recipients`` (envelope) as ``user``; the recipients the server
    refused while accepting the others, with its reason (empty: all accepted). A refused
    token is renewed once (another session's sign-out revokes the webmail's tokens)."""
    try:
        return _send_once(user, message, recipients)
    except AuthRefused:
        forget_token(user.pk)
        return _send_once(user, message, recipients)


def _send_once(user: User, message: EmailMessage, recipients: list[str]) -> dict[str, str]:
    token, _expires = token_for(user)
    security = settings.MAIL_SUBMISSION_SECURITY
    timeout = settings.MAIL_TIMEOUT_SECONDS
    host, port = settings.MAIL_SUBMISSION_HOST, settings.MAIL_SUBMISSION_PORT
    try:
        smtp: smtplib.SMTP
        if security == "tls":
            smtp = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        try:
            smtp.ehlo()
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            _authenticate(smtp, user.login, token)
            refused = smtp.send_message(
                message, from_addr=compose.own_address(user), to_addrs=recipients
            )
            return {
                address: reason.decode("utf-8", "replace")
                for address, (_code, reason) in refused.items()
            }
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
    except SendRefused:
        raise
    except smtplib.SMTPRecipientsRefused as error:
        code, reason = next(iter(error.recipients.values()))
        raise SendRefused(code, reason.decode("utf-8", "replace")) from error
    except smtplib.SMTPResponseException as error:
        answer: bytes | str = error.smtp_error
        text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
        raise SendRefused(error.smtp_code, text) from error
    except (smtplib.SMTPException, OSError, ssl.SSLError) as error:
        raise MailUnavailable(str(error)) from error
