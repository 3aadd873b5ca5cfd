"""A real Postfix for the mail tests, configured by ``deploy/mail/postfix.py`` from the
production templates and chained to the module's Dovecot: logins go to Dovecot's auth
service (hence to the portal under test), mail for the domain to Dovecot's LMTP, each
message past the sending limits' policy service (deploy/mail/policy.py, asking the same
portal), and nothing leaves the machine.

Under CI a missing Postfix fails the run; elsewhere the tests that need it are skipped.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from deploy.mail.dovecot import Dovecot
from deploy.mail.postfix import Postfix, portal_mailboxes, postfix_binary
from tests.mail.dovecot import SERVER_CLIENT_ID, SERVER_CLIENT_SECRET


def require_postfix() -> None:
    if postfix_binary() is None or os.geteuid() != 0:
        message = "the submission tests need Postfix (package postfix) and root to start it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def start_postfix(dovecot: Dovecot) -> Postfix:
    # Not pytest's tmp_path: its parents are private to root, and Postfix's unprivileged
    # processes must walk down to their queue and tables.
    base = Path(tempfile.mkdtemp(prefix="convergence-postfix-"))
    base.chmod(0o755)
    # The sending limits' policy service, asking the same live portal as Dovecot.
    policy_config = base / "policy.conf"
    policy_config.write_text(
        f"portal_url = {dovecot.portal_url}\nclient_id = {SERVER_CLIENT_ID}\n"
        f"client_secret = {SERVER_CLIENT_SECRET}\ntimeout_seconds = 5\n",
        encoding="utf-8",
    )
    policy_config.chmod(0o600)
    instance = Postfix(
        directory=base / "etc",
        queue_directory=base / "queue",
        data_directory=base / "data",
        log_file=base / "postfix.log",
        mail_domain=settings.MAIL_DOMAIN,
        lmtp_port=dovecot.lmtp_port,
        auth_port=dovecot.auth_port,
        policy_port=0,
        policy_config=policy_config,
    )
    try:
        instance.start(timeout=20)
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise
    return instance


@pytest.fixture(scope="module")
def postfix_instance(dovecot_instance: Dovecot) -> Iterator[Postfix]:
    """One Postfix per test module, in front of the module's Dovecot."""
    require_postfix()
    instance = start_postfix(dovecot_instance)
    try:
        yield instance
    finally:
        instance.stop()
        shutil.rmtree(instance.directory.parent, ignore_errors=True)


@pytest.fixture
def postfix(postfix_instance: Postfix, dovecot: Dovecot, demo: None) -> Iterator[Postfix]:
    """The module's Postfix, knowing the portal's accounts as they are in this test; what it
    logged during the test is printed (shown on failure)."""
    postfix_instance.write_addresses(portal_mailboxes(settings.MAIL_DOMAIN))
    before = len(postfix_instance.log_text())
    yield postfix_instance
    sys.stdout.write("--- postfix.log during this test ---\n")
    sys.stdout.write(postfix_instance.log_text()[before:])
