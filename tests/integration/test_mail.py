"""Mail queued while the mail server is down (a password reset, a new-browser alert) arrives
once the server is back: none lost, none twice."""

from __future__ import annotations

import mailbox
import time

from deploy.prodlike import port_answers, wait_until
from tests.integration.visitor import Visitor, signed_in

KARIM = ("kmartin", "Montagne-Lac-Sapin-2026")
KARIM_EMAIL = "karim.martin@exemple.fr"


def _pending(sql) -> int:
    row = sql.execute("SELECT count(*) FROM outbox_pendingmail WHERE state = 'pending'").fetchone()
    return int(row[0])


def _received(shape) -> list[str]:
    """The subject of each message the demo's mail server filed for Karim."""
    box = mailbox.Maildir(shape.var_dir / "maildir", create=True)
    return [str(message["Subject"]) for message in box if KARIM_EMAIL in str(message["To"])]


def _deliver(shape) -> int:
    done = shape.manage(
        "shell", "-c", "from convergence.outbox.actions import deliver_pending as d; print(d())"
    )
    return int(done.stdout.strip().splitlines()[-1])


def _settled(shape) -> list[str]:
    """Karim's messages once none has arrived for a second and a half (the worker is done)."""
    seen = _received(shape)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        time.sleep(1.5)
        now = _received(shape)
        if now == seen:
            return now
        seen = now
    raise TimeoutError("mail kept arriving")


def test_mail_queued_while_the_mail_server_is_down_arrives_once(shape, sql):
    # He has signed in before (so a browser he never used raises an alert below); whatever
    # that sign-in sent is delivered before the mail server goes down.
    assert signed_in(Visitor(shape.url).sign_in(*KARIM))
    before = _settled(shape)
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
        wait_until(lambda: _pending(sql) >= 2, timeout=30, what="two messages queued")
    finally:
        smtp.start()
    wait_until(lambda: port_answers(shape.smtp_port), timeout=20, what="mail server back")
    time.sleep(1.5)  # CONVERGENCE_MAIL_RETRY_FIRST_SECONDS=1 in the shape

    _deliver(shape)
    wait_until(lambda: _pending(sql) == 0, timeout=30, what="queue emptied")
    new = _received(shape)[len(before) :]
    assert len(new) == 2, new
    assert len(set(new)) == 2  # the reset link and the alert, each once
    assert _deliver(shape) == 0
    time.sleep(1)
    assert len(_received(shape)) == len(before) + 2
