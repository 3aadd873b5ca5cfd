# ruff: noqa: F811 - the fixtures imported below are test arguments of the same name
"""The demo's delivery step (demo/mail/delivery.py): the person's active Sieve script, in the
vocabulary the portal writes, run on real Maildirs; then end to end, a message submitted to
the demo servers filed, answered and notified as Pigeonhole would."""

from __future__ import annotations

import asyncio
import datetime
import logging
import mailbox
import smtplib
import time
import warnings
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from sievelib.managesieve import Client as SieveClient

from convergence.mail.models import MailAlert
from demo.mail.delivery import Delivery, Notification, evaluate
from demo.mail.seed import maildir_of
from demo.mail.servers import MailServers
from demo.mail.sieve import NamedFilterSet
from tests.demo.test_mail_servers import (  # noqa: F401 - fixtures
    TIMEOUT,
    imap_as,
    mail_client,
    servers,
    token_of,
)

DOMAIN = "ac-besancon.fr"
SOPHIE = f"sophie.bernard@{DOMAIN}"
HEAD = f"philippe.girard@{DOMAIN}"
CPE = f"nadia.roux@{DOMAIN}"
PEOPLE = {SOPHIE: "sbernard", HEAD: "pgirard", CPE: "nroux"}
REQUIRE = (
    'require ["fileinto", "imap4flags", "copy", "vacation", "date", "relational", "mime",'
    ' "vnd.dovecot.execute"];\n'
)
BEGIN = "# --- Convergence : début de la section gérée par le portail ---\n"
END = "# --- Convergence : fin de la section gérée par le portail ---\n"
HEAD_ONLY = (
    REQUIRE
    + BEGIN
    + '# règle: {"name":"Mon chef d\'établissement"}\n'
    + f'if address :is "from" ["{HEAD}"] {{\n  execute :pipe "convergence-notify";\n  stop;\n}}\n'
    + '# règle: {"name":"Tout le reste"}\n'
    + 'if true {\n  fileinto "Autres";\n}\n'
    + END
)
NOW = datetime.datetime(2025, 3, 10, 9, 0, tzinfo=datetime.UTC)


def message(
    subject: str = "Conseil pédagogique",
    *,
    sender: str = HEAD,
    to: str = SOPHIE,
    cc: str = "",
    headers: dict[str, str] | None = None,
    attachment: bool = False,
) -> bytes:
    built = EmailMessage()
    built["From"] = sender
    built["To"] = to
    if cc:
        built["Cc"] = cc
    built["Subject"] = subject
    built["Message-ID"] = make_msgid(domain=DOMAIN)
    for name, value in (headers or {}).items():
        built[name] = value
    built.set_content("Bonjour,\n\nÀ jeudi.\n")
    if attachment:
        built.add_attachment(
            b"%PDF-1.4", maintype="application", subtype="pdf", filename="ordre.pdf"
        )
    return built.as_bytes()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime.datetime:
        return self.now


@pytest.fixture
def notified() -> list[Notification]:
    return []


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def delivery(tmp_path: Path, notified: list[Notification], clock: Clock) -> Delivery:
    for login in PEOPLE.values():
        maildir_of(tmp_path, login).add_folder("Autres")
    return Delivery(base_dir=tmp_path, directory=PEOPLE.get, notifier=notified.append, clock=clock)


def activate(delivery: Delivery, login: str, script: str) -> None:
    """As ManageSieve does: a named script, made active (demo/mail/sieve.py)."""
    scripts = NamedFilterSet(str(delivery.base_dir / login))
    asyncio.run(scripts.put("convergence", script.encode()))
    asyncio.run(scripts.set_active("convergence"))


def stored(delivery: Delivery, login: str, folder: str = "INBOX") -> list[mailbox.MaildirMessage]:
    root = delivery.base_dir / login
    box = mailbox.Maildir(root if folder == "INBOX" else root / f".{folder}", create=False)
    return list(box)


def subjects(delivery: Delivery, login: str, folder: str = "INBOX") -> list[str]:
    return sorted(decoded(m["Subject"]) for m in stored(delivery, login, folder))


def decoded(value: Any) -> str:
    return str(make_header(decode_header(str(value))))


# --- the interpreter on real Maildirs ---------------------------------------------------------


def test_without_a_script_the_message_lands_in_the_inbox(delivery: Delivery) -> None:
    result = delivery.deliver("sbernard", message())

    assert result.folders == ["INBOX"]
    assert [m.get_subdir() for m in stored(delivery, "sbernard")] == ["new"]


def test_only_the_head_of_school_the_rest_in_autres(
    delivery: Delivery, notified: list[Notification]
) -> None:
    activate(delivery, "sbernard", HEAD_ONLY)

    delivery.deliver("sbernard", message("Conseil pédagogique"))
    delivery.deliver("sbernard", message("Lettre numérique", sender="lettre@info.example"))

    assert subjects(delivery, "sbernard") == ["Conseil pédagogique"]
    assert subjects(delivery, "sbernard", "Autres") == ["Lettre numérique"]
    assert [(n.login, n.sender, n.subject) for n in notified] == [
        ("sbernard", HEAD, "Conseil pédagogique")
    ]
    assert notified[0].message_id.endswith(f"@{DOMAIN}>")


def test_newsletters_filed_and_marked_read(delivery: Delivery) -> None:
    activate(
        delivery,
        "sbernard",
        REQUIRE
        + BEGIN
        + 'if exists ["list-id", "list-unsubscribe"] {\n'
        + '  addflag "\\\\Seen";\n  fileinto "Autres";\n}\n'
        + END,
    )

    delivery.deliver(
        "sbernard",
        message(
            "La lettre du mois",
            headers={
                "List-Id": "<lettre.info.example>",
                "List-Unsubscribe": "<mailto:stop@info.example>",
            },
        ),
    )
    delivery.deliver("sbernard", message("Réunion"))

    [filed] = stored(delivery, "sbernard", "Autres")
    assert (filed.get_subdir(), filed.get_flags()) == ("cur", "S")
    [kept] = stored(delivery, "sbernard")
    assert (decoded(kept["Subject"]), kept.get_flags()) == ("Réunion", "")


@pytest.mark.parametrize(
    ("test", "matching", "other"),
    [
        (f'address :domain :is "from" ["{DOMAIN}"]', {}, {"sender": "x@ailleurs.example"}),
        ('header :contains "subject" ["urgent", "conseil"]', {}, {"subject": "Bonjour"}),
        (
            'header :mime :anychild :contains "Content-Disposition" "attachment"',
            {"attachment": True},
            {},
        ),
        (f'address :is "cc" ["{SOPHIE}"]', {"to": CPE, "cc": SOPHIE}, {}),
        ('not address :is "from" ["personne@x.example"]', {}, {"sender": "personne@x.example"}),
        (
            f'allof(address :is "from" ["{HEAD}"], header :contains "subject" "Conseil")',
            {},
            {"subject": "Autre chose"},
        ),
        (
            'anyof(header :contains "subject" "nope", address :domain :is "from" "x.example")',
            {"sender": "a@x.example"},
            {},
        ),
        (
            'currentdate :value "ge" "date" "2025-03-01"',
            {},
            None,  # the same test on a later clock is below
        ),
    ],
)
def test_each_condition_of_the_rules(
    delivery: Delivery, test: str, matching: dict[str, Any], other: dict[str, Any] | None
) -> None:
    script = REQUIRE + f'if {test} {{\n  fileinto "Autres";\n}}\n'
    activate(delivery, "sbernard", script)
    subject = matching.pop("subject", "Conseil pédagogique")

    delivery.deliver("sbernard", message(subject, **matching))
    assert len(stored(delivery, "sbernard", "Autres")) == 1
    if other is not None:
        subject = other.pop("subject", "Conseil pédagogique")
        delivery.deliver("sbernard", message(subject, **other))
        assert len(stored(delivery, "sbernard", "Autres")) == 1
        assert len(stored(delivery, "sbernard")) == 1


def test_a_vacation_between_two_dates_only(delivery: Delivery, clock: Clock) -> None:
    script = (
        REQUIRE
        + 'if allof(currentdate :value "ge" "date" "2025-03-01",'
        + ' currentdate :value "le" "date" "2025-03-15") {\n'
        + '  vacation :days 1 :subject "Absente" "Je suis absente.";\n}\n'
    )
    clock.now = datetime.datetime(2025, 3, 16, 9, 0, tzinfo=datetime.UTC)
    assert evaluate(script, message(), now=clock.now).vacation is None
    assert evaluate(script, message(), now=NOW).vacation is not None


def test_stop_ends_the_rules(delivery: Delivery) -> None:
    activate(
        delivery,
        "sbernard",
        REQUIRE + 'if true {\n  stop;\n}\nif true {\n  fileinto "Autres";\n}\n',
    )

    assert delivery.deliver("sbernard", message()).folders == ["INBOX"]


def test_a_folder_that_does_not_exist_keeps_the_message(delivery: Delivery) -> None:
    activate(delivery, "sbernard", REQUIRE + 'fileinto "Dossier supprimé";\n')

    assert delivery.deliver("sbernard", message()).folders == ["INBOX"]
    assert len(stored(delivery, "sbernard")) == 1


def test_a_nested_folder_is_pymaps_maildir_plus_plus_name(delivery: Delivery) -> None:
    maildir_of(delivery.base_dir, "sbernard").add_folder("Direction.Vie scolaire")
    activate(delivery, "sbernard", REQUIRE + 'fileinto "Direction/Vie scolaire";\n')

    assert delivery.deliver("sbernard", message()).folders == ["Direction/Vie scolaire"]
    assert len(stored(delivery, "sbernard", "Direction.Vie scolaire")) == 1


def test_a_broken_script_never_loses_mail(
    delivery: Delivery, notified: list[Notification], caplog: Any
) -> None:
    activate(delivery, "sbernard", 'require ["fileinto"];\nif true { fileinto "Autres" }\n')
    with caplog.at_level(logging.WARNING, logger="demo.mail.delivery"):
        result = delivery.deliver("sbernard", message())

    assert result.folders == ["INBOX"]
    assert result.error
    assert "non exécuté" in caplog.text


def test_an_unknown_command_keeps_the_message_untouched(
    delivery: Delivery, notified: list[Notification]
) -> None:
    activate(
        delivery,
        "sbernard",
        'require ["fileinto", "reject", "vnd.dovecot.execute"];\n'
        'execute :pipe "convergence-notify";\nfileinto "Autres";\nreject "Non.";\n',
    )

    result = delivery.deliver("sbernard", message())

    assert result.folders == ["INBOX"]
    assert stored(delivery, "sbernard", "Autres") == []
    assert notified == []


def test_a_forward_inside_the_academie_keeps_a_copy(delivery: Delivery) -> None:
    activate(delivery, "sbernard", REQUIRE + f'redirect :copy "{CPE}";\n')
    activate(delivery, "nroux", REQUIRE + 'fileinto "Autres";\n')  # her own rules run too

    result = delivery.deliver("sbernard", message())

    assert result.redirected == [CPE]
    assert len(stored(delivery, "sbernard")) == 1
    assert len(stored(delivery, "nroux", "Autres")) == 1


def test_a_forward_outside_is_dropped_in_the_demo(delivery: Delivery, caplog: Any) -> None:
    activate(delivery, "sbernard", REQUIRE + 'redirect :copy "sophie@gmail.example";\n')
    with caplog.at_level(logging.INFO, logger="demo.mail.delivery"):
        result = delivery.deliver("sbernard", message())

    assert result.redirected == []
    assert len(stored(delivery, "sbernard")) == 1
    assert "n'envoie rien dehors" in caplog.text


def test_two_people_forwarding_to_each_other_stop(delivery: Delivery) -> None:
    activate(delivery, "sbernard", REQUIRE + f'redirect :copy "{CPE}";\n')
    activate(delivery, "nroux", REQUIRE + f'redirect :copy "{SOPHIE}";\n')

    delivery.deliver("sbernard", message())

    assert 1 < len(stored(delivery, "sbernard")) + len(stored(delivery, "nroux")) <= 7


VACATION = (
    REQUIRE
    + BEGIN
    + '# absence: {"enabled":true}\n'
    + 'if not exists ["list-id", "list-unsubscribe"] {\n'
    + f'  vacation :days 3 :subject "Absente jusqu\'au 20 mars" :from "{SOPHIE}"'
    + f' :addresses ["{SOPHIE}"] "Bonjour,\nje suis absente.\nSophie Bernard";\n'
    + "}\n"
    + "if true {\n  stop;\n}\n"
    + END
)


def test_a_vacation_reply_goes_once_per_sender_and_period(delivery: Delivery, clock: Clock) -> None:
    activate(delivery, "sbernard", VACATION)

    delivery.deliver("sbernard", message("Premier"))
    delivery.deliver("sbernard", message("Deuxième"))
    clock.now = NOW + datetime.timedelta(days=2)
    delivery.deliver("sbernard", message("Troisième"))

    [reply] = stored(delivery, "pgirard")
    assert decoded(reply["Subject"]) == "Absente jusqu'au 20 mars"
    assert (reply["From"], reply["To"]) == (SOPHIE, HEAD)
    assert reply["Auto-Submitted"].startswith("auto-replied")
    assert "je suis absente." in reply.get_payload(decode=True).decode()
    assert len(stored(delivery, "sbernard")) == 3

    clock.now = NOW + datetime.timedelta(days=3, minutes=1)
    delivery.deliver("sbernard", message("Quatrième"))
    assert len(stored(delivery, "pgirard")) == 2


@pytest.mark.parametrize(
    "kind",
    ["list", "bulk", "automatic", "own address", "not a visible recipient", "mailer-daemon"],
)
def test_no_vacation_reply_to(delivery: Delivery, kind: str) -> None:
    activate(delivery, "sbernard", VACATION)
    sent = {
        "list": message(headers={"List-Unsubscribe": "<mailto:stop@x.example>"}),
        "bulk": message(headers={"Precedence": "bulk"}),
        "automatic": message(headers={"Auto-Submitted": "auto-generated"}),
        "own address": message(sender=SOPHIE),
        "not a visible recipient": message(to="tous-les-personnels@ac-besancon.fr"),
        "mailer-daemon": message(sender=f"MAILER-DAEMON@{DOMAIN}"),
    }[kind]

    result = delivery.deliver("sbernard", sent)

    assert result.replied_to == ""
    assert stored(delivery, "pgirard") == []
    assert len(stored(delivery, "sbernard")) == 1


def test_vacation_first_then_a_rule_with_stop(
    delivery: Delivery, notified: list[Notification]
) -> None:
    """The section puts the vacation first: a rule's stop never silences it."""
    script = VACATION.replace("if true {\n  stop;\n}\n", HEAD_ONLY.split(BEGIN)[1].split(END)[0])
    activate(delivery, "sbernard", script)

    result = delivery.deliver("sbernard", message())

    assert result.replied_to == HEAD
    assert len(notified) == 1


# --- end to end: submission → delivery with the demo servers --------------------------------


def _sieve(servers: MailServers, person: Any, script: str) -> None:
    client = SieveClient("127.0.0.1", servers.ports.sieve)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert client.connect(person.login, token_of(person), authmech="OAUTHBEARER")
    assert client.putscript("convergence", script)
    assert client.setactive("convergence")
    client.sock.close()  # pymap answers LOGOUT with BYE (see test_mail_servers)


def _submit(servers: MailServers, person: Any, to: str, subject: str) -> None:
    token = token_of(person)
    built = EmailMessage()
    built["From"] = person.email
    built["To"] = to
    built["Subject"] = subject
    built["Message-ID"] = make_msgid(domain=DOMAIN)
    built.set_content("Bonjour,\n\nÀ jeudi.\n")
    with smtplib.SMTP("127.0.0.1", servers.ports.submission, timeout=TIMEOUT) as smtp:
        smtp.ehlo()
        smtp.auth(
            "XOAUTH2",
            lambda _challenge=None: f"user={person.login}\x01auth=Bearer {token}\x01\x01",
        )
        smtp.send_message(built)


def _wait_for(condition: Any, seconds: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


@pytest.mark.django_db(transaction=True)
def test_submitted_mail_follows_the_head_of_school_rule_and_notifies(
    servers: MailServers, teacher: Any, head_of_school: Any, cpe: Any
) -> None:
    imap = imap_as(servers, teacher)
    try:
        imap.create_folder("Autres")
    finally:
        imap.logout()
    script = HEAD_ONLY.replace(HEAD, head_of_school.email)
    _sieve(servers, teacher, script)

    _submit(servers, head_of_school, teacher.email, "Conseil pédagogique jeudi")
    _submit(servers, cpe, teacher.email, "Absences de la 4e B")

    imap = imap_as(servers, teacher)
    try:
        imap.select_folder("INBOX", readonly=True)
        inbox = imap.search(["SUBJECT", "Conseil pédagogique"], charset="UTF-8")
        imap.select_folder("Autres", readonly=True)
        others = imap.search(["SUBJECT", "Absences de la 4e B"], charset="UTF-8")
    finally:
        imap.logout()
    assert (len(inbox), len(others)) == (1, 1)
    assert _wait_for(lambda: MailAlert.objects.filter(user=teacher).exists())
    alert = MailAlert.objects.get(user=teacher)
    assert alert.subject == "Conseil pédagogique jeudi"
    assert head_of_school.email in alert.sender


@pytest.mark.django_db(transaction=True)
def test_submitted_mail_gets_one_vacation_reply_per_sender(
    servers: MailServers, teacher: Any, head_of_school: Any
) -> None:
    _sieve(servers, teacher, VACATION.replace(SOPHIE, teacher.email))

    _submit(servers, head_of_school, teacher.email, "Conseil pédagogique")
    _submit(servers, head_of_school, teacher.email, "Conseil pédagogique (suite)")

    imap = imap_as(servers, head_of_school)
    try:
        imap.select_folder("INBOX", readonly=True)
        replies = imap.search(["SUBJECT", "Absente jusqu"], charset="UTF-8")
    finally:
        imap.logout()
    assert len(replies) == 1
