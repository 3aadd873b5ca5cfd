"""Mail queued while the mail server is down (a password reset, a new-browser alert) arrives
once the server is back: none lost, none twice."""

from __future__ import annotations

import mailbox
import time
from email.header import decode_header, make_header

from deploy.prodlike import port_answers, wait_until
from tests.integration.visitor import Visitor, signed_in

KARIM = ("kmartin", "Montagne-Lac-Sapin-2026")
KARIM_EMAIL = "karim.martin@exemple.fr"
RESET = "accounts/mail/password_reset_link"
# The new-device alert is a security notification: its e-mail is the notification's.
ALERT = "notifications/mail/notification"


def _queued(sql, since: str) -> list[str]:
    """The templates of the messages waiting in the outbox, queued since ``since``."""
    rows = sql.execute(
        "SELECT template FROM outbox_pendingmail WHERE state = 'pending' AND created_at >= %s",
        [since],
    ).fetchall()
    return sorted(str(row[0]) for row in rows)


def _pending(sql) -> int:
    row = sql.execute("SELECT count(*) FROM outbox_pendingmail WHERE state = 'pending'").fetchone()
    return int(row[0])


def _received(shape) -> list[str]:
    """The decoded subject of each message the demo's mail server filed for Karim."""
    box = mailbox.Maildir(shape.var_dir / "maildir", create=True)
    return sorted(
        str(make_header(decode_header(str(message["Subject"]))))
        for message in box
        if KARIM_EMAIL in str(message["To"])
    )


def _settled(shape) -> list[str]:
    """Karim's messages once none has arrived for three seconds (the worker is idle)."""
    seen = _received(shape)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(3)
        now = _received(shape)
        if now == seen:
            return now
        seen = now
    raise TimeoutError("mail kept arriving")


def _deliver(shape) -> int:
    done = shape.manage(
        "shell", "-c", "from convergence.outbox.actions import deliver_pending as d; print(d())"
    )
    return int(done.stdout.strip().splitlines()[-1])


def _new(before: list[str], after: list[str]) -> list[str]:
    remaining = list(after)
    for subject in before:
        remaining.remove(subject)
    return remaining


def test_mail_queued_while_the_mail_server_is_down_arrives_once(shape, sql):
    # He has signed in before (so that a browser he never used raises an alert below);
    # whatever that first sign-in sent is delivered before the mail server goes down.
    assert signed_in(Visitor(shape.url).sign_in(*KARIM))
    before = _settled(shape)
    since = str(sql.execute("SELECT now()::text").fetchone()[0])
    smtp = shape.children["smtp"]
    smtp.stop()
    wait_until(lambda: not port_answers(shape.smtp_port), timeout=10, what="mail server down")
    try:
        person = Visitor(shape.url)
        token = person.form_token("/mot-de-passe-oublie/")
        asked = person.post(
            "/mot-de-passe-oublie/",
            {"csrfmiddlewaretoken": token, "identifier": KARIM[0], "channel": "email"},
        )
        assert asked.status_code == 302
        # A browser he never used: the worker e-mails him an alert.
        assert signed_in(Visitor(shape.url).sign_in(*KARIM))
        wait_until(
            lambda: _queued(sql, since) == [RESET, ALERT],
            timeout=30,
            what="the reset link and the alert queued",
        )
    finally:
        smtp.start()
    wait_until(lambda: port_answers(shape.smtp_port), timeout=20, what="mail server back")
    time.sleep(1.5)  # CONVERGENCE_MAIL_RETRY_FIRST_SECONDS=1 in the shape

    _deliver(shape)
    wait_until(lambda: _pending(sql) == 0, timeout=30, what="queue emptied")
    after = _settled(shape)
    new = _new(before, after)
    assert len(new) == 2, (before, after)
    assert len(set(new)) == 2, new  # the reset link and the alert, each once
    assert any("mot de passe" in subject.lower() for subject in new), new
    assert _deliver(shape) == 0
    assert _settled(shape) == after
