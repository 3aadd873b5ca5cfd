"""The one adapter to Dovecot's doveadm HTTP API: close a person's open IMAP sessions.

Dovecot checks credentials when a client logs in; a phone that stays connected (IDLE) after
its app password is revoked, its owner suspended or their password reset would keep reading
mail until it reconnects. The portal asks Dovecot to kick the person's sessions at once; the
phone reconnects and is refused. Every session of the person is closed (Dovecot cannot tell
which password a session used): their other devices log in again on their own.

Off when ``MAIL_DOVEADM_URL`` is empty (the demo's server has no doveadm). Bounded by
``MAIL_TIMEOUT_SECONDS``; a failure is logged, never raised: the revocation itself is
already written and refuses the next login.
"""

from __future__ import annotations

import base64
import json
import logging

import requests
from django.conf import settings

logger = logging.getLogger(__name__)
# doveadm's exit code when the person had no session to close (sysexits' EX_NOUSER).
NO_SESSION = 68


def kick(login: str) -> bool:
    """Close ``login``'s IMAP sessions; True when Dovecot did (or there was none)."""
    url = settings.MAIL_DOVEADM_URL
    if not url:
        return False
    key = base64.b64encode(settings.MAIL_DOVEADM_API_KEY.encode()).decode()
    try:
        response = requests.post(
            url.rstrip("/") + "/doveadm/v1",
            data=json.dumps([["kick", {"mask": login}, "kick"]]),
            headers={"Authorization": f"X-Dovecot-API {key}", "Content-Type": "application/json"},
            timeout=settings.MAIL_TIMEOUT_SECONDS,
        )
        answer = response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError) as error:
        logger.warning("doveadm kick of %s failed: %s", login, error)
        return False
    if not isinstance(answer, list) or not answer or not isinstance(answer[0], list):
        logger.warning(
            "doveadm kick of %s: unexpected answer (HTTP %s)", login, response.status_code
        )
        return False
    kind, body = answer[0][0], answer[0][1] if len(answer[0]) > 1 else {}
    if kind == "doveadmResponse" or (
        kind == "error" and isinstance(body, dict) and body.get("exitCode") == NO_SESSION
    ):
        return True
    logger.warning("doveadm kick of %s refused: %s", login, answer[0])
    return False
