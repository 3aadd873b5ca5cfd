"""A real Dovecot 2.3 for the mail tests, configured by ``deploy/mail/dovecot.py`` from the
production templates and pointed at the live server: tokens are introspected and app
passwords checked by the portal under test.

Under CI a missing Dovecot fails the run; elsewhere the tests that need it are skipped.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from deploy.mail.dovecot import Dovecot, dovecot_binary

# The académie's mail server as the blueprint declares it (``server_clients:``).
SERVER_CLIENT_ID = "messagerie"
SERVER_CLIENT_SECRET = "messagerie-secret-de-test-assez-long"


def require_dovecot() -> None:
    if dovecot_binary() is None:
        message = "the mail tests need Dovecot (dovecot-imapd dovecot-lmtpd dovecot-sieve)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def start_dovecot(portal_url: str) -> Dovecot:
    # Not pytest's tmp_path: its parents are private to root, and Dovecot's unprivileged
    # processes must walk down to their sockets and mailboxes.
    directory = Path(tempfile.mkdtemp(prefix="convergence-dovecot-"))
    instance = Dovecot(
        directory=directory,
        portal_url=portal_url,
        client_id=SERVER_CLIENT_ID,
        client_secret=SERVER_CLIENT_SECRET,
        auth_failure_delay="0",
        timeout_seconds=3,
    )
    try:
        instance.start(timeout=10)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return instance


@pytest.fixture(scope="module")
def dovecot_instance(live_server: Any) -> Iterator[Dovecot]:
    """One Dovecot per test module, introspecting at the live server."""
    require_dovecot()
    instance = start_dovecot(live_server.url)
    try:
        yield instance
    finally:
        instance.stop()
        shutil.rmtree(instance.directory, ignore_errors=True)


@pytest.fixture
def dovecot(dovecot_instance: Dovecot, mail_server_client: Any) -> Iterator[Dovecot]:
    """The module's Dovecot; what it logged during the test is printed (shown on failure)."""
    before = len(dovecot_instance.log_text())
    yield dovecot_instance
    sys.stdout.write("--- dovecot.log during this test ---\n")
    sys.stdout.write(dovecot_instance.log_text()[before:])
