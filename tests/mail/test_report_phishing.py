# ruff: noqa: F811 - the fixtures imported below are test arguments of the same name
"""« Signaler un hameçonnage » against the real Dovecot and Postfix: the message reaches the
security address as a message/rfc822 attachment identical to the original, and lands in Junk
with the $Phishing keyword, once; nobody reports another person's message. The DSI's
campaigns (same sender, subject or link domain), their page (the DSI only) and the warning
that reaches everyone. The demo's phishing message reported on the demo's servers."""

from __future__ import annotations

import datetime
import email
import email.policy
import email.utils
import mailbox as std_mailbox
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import imapclient
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from convergence.accounts.models import User
from convergence.audit.models import AuditEvent
from convergence.mail import phishing_reports
from convergence.mail import tasks as mail_tasks
from convergence.mail.models import PhishingReport, PhishingWarning
from convergence.mail.phishing_actions import link_domains
from convergence.notifications.models import Notification
from convergence.sso.actions import issue_first_party_token
from demo.mail.seed import PHISHING_DOMAIN
from demo.mail.servers import MailServers
from demo.mail.submission import CATCH_ALL
from deploy.mail.dovecot import Dovecot
from deploy.mail.postfix import Postfix
from tests.helpers import client_of, text_of
from tests.mail.dovecot import dovecot, dovecot_instance  # noqa: F401 - fixtures
from tests.mail.postfix import postfix, postfix_instance  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db(transaction=True)

DELIVERY_SECONDS = 15
LURE = "Votre quota de messagerie est dépassé"
IMPOSTOR = "support@ac-besancon.fr.secure-login.info"


def lure(*, subject: str = LURE) -> bytes:
    """A phishing message as it arrives: a display name claiming the académie's support, an
    HTML link whose text shows the académie and whose target is elsewhere, one real link."""
    message = EmailMessage()
    message["From"] = f"Service informatique <{IMPOSTOR}>"
    message["To"] = "sophie.bernard@ac-besancon.fr"
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(timezone.now())
    message["Message-ID"] = email.utils.make_msgid(domain="secure-login.info")
    message.set_content(
        "Bonjour,\n\nValidez votre compte : https://ac-besancon.fr.secure-login.info/owa/\n"
    )
    message.add_alternative(
        '<p>Validez votre compte : <a href="https://ac-besancon.fr.secure-login.info/owa/?id=1">'
        "https://messagerie.ac-besancon.fr/</a></p>"
        '<p><a href="https://www.ac-besancon.fr/mentions-legales">Mentions légales</a> · '
        '<a href="http://pixel.tracking-mails.example/o.gif">.</a></p>',
        subtype="html",
    )
    return message.as_bytes(policy=email.policy.SMTP)


class Box:
    """A test's own IMAP session as one person."""

    def __init__(self, port: int, person: Any) -> None:
        token, _ = issue_first_party_token(
            user=person, client_id="tests", name="Tests", scope="mail", seconds=600
        )
        self.client = imapclient.IMAPClient("127.0.0.1", port=port, ssl=False, timeout=10)
        self.client.oauth2_login(person.login, token)

    def empty(self) -> None:
        for folder in ("INBOX", "Junk", "Sent", "Drafts", "Trash", "Archive"):
            if not self.client.folder_exists(folder):
                continue
            self.client.select_folder(folder)
            uids = self.client.search(["ALL"])
            if uids:
                self.client.add_flags(uids, [b"\\Deleted"], silent=True)
                self.client.expunge()
            self.client.close_folder()

    def uids(self, folder: str) -> list[int]:
        self.client.select_folder(folder, readonly=True)
        return sorted(self.client.search(["ALL"]))

    def fetch(self, folder: str, uid: int, items: list[str]) -> dict[bytes, Any]:
        self.client.select_folder(folder, readonly=True)
        return self.client.fetch([uid], items)[uid]  # type: ignore[no-any-return]

    def wait_for(self, folder: str, count: int) -> list[int]:
        deadline = time.monotonic() + DELIVERY_SECONDS
        while True:
            found = self.uids(folder)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.2)


@pytest.fixture
def servers(postfix: Postfix, dovecot: Dovecot, settings: Any, dsi: Any) -> Iterator[Dovecot]:
    """The webmail on Dovecot and Postfix; the security address is the DSI's own mailbox."""
    from convergence.mail import connections

    settings.MAIL_IMAP_HOST = settings.MAIL_SUBMISSION_HOST = "127.0.0.1"
    settings.MAIL_IMAP_PORT = dovecot.imap_port
    settings.MAIL_SUBMISSION_PORT = postfix.submission_port
    settings.MAIL_IMAP_SECURITY = settings.MAIL_SUBMISSION_SECURITY = "none"
    settings.MAIL_SECURITY_ADDRESS = dsi.email
    connections.reset()
    yield dovecot
    connections.reset()


@pytest.fixture
def sophie(servers: Dovecot, teacher: Any) -> Iterator[Box]:
    box = Box(servers.imap_port, teacher)
    box.empty()
    yield box
    box.client.logout()


@pytest.fixture
def security(servers: Dovecot, dsi: Any) -> Iterator[Box]:
    box = Box(servers.imap_port, dsi)
    box.empty()
    yield box
    box.client.logout()


def report(browser: Any, uid: int, folder: str = "INBOX") -> Any:
    return browser.post(
        reverse("mail:report_phishing", args=[uid]), {"dossier": folder}, follow=True
    )


def test_a_reported_message_reaches_security_whole_and_goes_to_junk(
    teacher: Any, sophie: Box, security: Box
) -> None:
    original = lure()
    sophie.client.append("INBOX", original)
    (uid,) = sophie.uids("INBOX")
    browser = client_of(teacher)

    confirmation = text_of(browser.get(reverse("mail:report_phishing", args=[uid])))
    assert "Signaler ce message" in confirmation and LURE in confirmation
    page = text_of(report(browser, uid))

    assert "transmis à la cellule sécurité" in page
    # In Junk, read and marked $Phishing; no longer in the inbox.
    assert sophie.uids("INBOX") == []
    (kept,) = sophie.uids("Junk")
    stored = sophie.fetch("Junk", kept, ["FLAGS", "BODY.PEEK[]"])
    assert {b"$Phishing", b"\\Seen"} <= set(stored[b"FLAGS"])
    # Delivered to the security address by Postfix: part 2 is the original, byte for byte.
    (arrived,) = security.wait_for("INBOX", 1)
    received = security.fetch("INBOX", arrived, ["BODY.PEEK[]", "BODY.PEEK[2]"])
    outer = email.message_from_bytes(received[b"BODY[]"], policy=email.policy.default)
    assert outer["From"].addresses[0].addr_spec == teacher.email
    assert str(outer["Subject"]) == f"Signalement d'hameçonnage : {LURE}"
    parts = list(outer.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "message/rfc822"]
    assert "signale le message joint" in parts[0].get_content()
    assert received[b"BODY[2]"] == stored[b"BODY[]"] == original
    # What the DSI keeps: who sent it and where its links go, never its body.
    saved = PhishingReport.objects.get()
    assert (saved.reporter, saved.sender_address, saved.sender_domain) == (
        teacher,
        IMPOSTOR,
        "ac-besancon.fr.secure-login.info",
    )
    assert saved.sender_name == "Service informatique" and saved.subject == LURE
    assert saved.link_domains == [
        "ac-besancon.fr.secure-login.info",
        "pixel.tracking-mails.example",
    ]
    assert saved.message_id == email.message_from_bytes(original)["Message-ID"]
    assert saved.forwarded
    event = AuditEvent.objects.get(event_type="mail.phishing_reported")
    assert event.actor == teacher and event.data["report"] == saved.pk
    # Its page in Junk says it was reported, without the button.
    shown = text_of(browser.get(reverse("mail:message", args=[kept]) + "?dossier=Junk"))
    assert "Message signalé comme hameçonnage le" in shown
    assert 'id="mail-report-phishing"' not in shown


def test_reporting_twice_sends_once(teacher: Any, sophie: Box, security: Box) -> None:
    sophie.client.append("INBOX", lure())
    (uid,) = sophie.uids("INBOX")
    browser = client_of(teacher)
    report(browser, uid)
    (kept,) = sophie.uids("Junk")

    again = text_of(report(browser, kept, folder="Junk"))

    assert "Vous avez déjà signalé ce message" in again
    assert PhishingReport.objects.count() == 1
    assert AuditEvent.objects.filter(event_type="mail.phishing_reported").count() == 1
    assert len(security.wait_for("INBOX", 1)) == 1
    time.sleep(1)  # a second message would have arrived by now
    assert len(security.uids("INBOX")) == 1
    assert sophie.uids("Junk") == [kept]


def test_nobody_reports_another_persons_message(
    teacher: Any, head_of_school: Any, sophie: Box, servers: Dovecot
) -> None:
    sophie.client.append("INBOX", lure())
    (uid,) = sophie.uids("INBOX")
    theirs = Box(servers.imap_port, head_of_school)
    theirs.empty()
    theirs.client.logout()

    # The same UID, asked by the head of school: looked for in his own mailbox only.
    response = client_of(head_of_school).post(
        reverse("mail:report_phishing", args=[uid]), {"dossier": "INBOX"}
    )

    assert response.status_code == 404
    assert sophie.uids("INBOX") == [uid]
    assert b"$Phishing" not in sophie.fetch("INBOX", uid, ["FLAGS"])[b"FLAGS"]
    assert not PhishingReport.objects.exists()


def test_reporting_needs_a_post_with_csrf(teacher: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(teacher)
    response = browser.post(reverse("mail:report_phishing", args=[1]), {"dossier": "INBOX"})
    assert response.status_code == 403


def test_link_domains_leave_the_academie_out() -> None:
    assert link_domains(lure()) == [
        "ac-besancon.fr.secure-login.info",
        "pixel.tracking-mails.example",
    ]


def test_link_domains_are_the_links_a_reader_follows_not_the_markup() -> None:
    """A DOCTYPE or an xmlns names w3.org in most HTML mail: counted as a link, it would join
    every campaign into one."""
    built = EmailMessage()
    built["From"] = "x@lure.example"
    built["Subject"] = "Colis"
    built.set_content("Votre colis : https://colis-suivi.example/a")
    built.add_alternative(
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">'
        '<html xmlns="http://www.w3.org/1999/xhtml"><body>'
        '<a href="https://colis-suivi.example/a">suivre</a> schemas.microsoft.com'
        "</body></html>",
        subtype="html",
    )
    assert link_domains(built.as_bytes()) == ["colis-suivi.example"]


# --- Campaigns ------------------------------------------------------------------------------

# (name, sender, subject, link hosts, days ago) → the campaigns expected, by name.
REPORTS = [
    ("quota-1", IMPOSTOR, "Votre quota est dépassé", ["quota-owa.example"], 1),
    ("quota-2", IMPOSTOR, "Dernier avertissement", [], 2),  # same sender as quota-1
    ("quota-3", "x@autre.example", "RE: dernier  AVERTISSEMENT", [], 3),  # same subject as 2
    ("quota-4", "y@encore.example", "Colis en attente", ["quota-owa.example"], 4),  # same link
    ("prime", "rh@prime.example", "Votre prime", ["prime.example"], 5),  # unrelated
    ("old", IMPOSTOR, "Votre quota est dépassé", ["quota-owa.example"], 45),  # too old
]
EXPECTED = [{"quota-1", "quota-2", "quota-3", "quota-4"}, {"prime"}]


def _reports(people: list[Any]) -> dict[int, str]:
    names = {}
    now = timezone.now()
    for index, (name, sender, subject, links, days) in enumerate(REPORTS):
        created = PhishingReport.objects.create(
            reporter=people[index % len(people)],
            reported_at=now - datetime.timedelta(days=days),
            sender_address=sender,
            sender_domain=sender.rpartition("@")[2],
            subject=subject,
            link_domains=links,
            message_id=f"<{name}@test>",
        )
        names[created.pk] = name
    return names


def test_reports_are_grouped_by_sender_subject_or_link(
    teacher: Any, pupil: Any, head_of_school: Any
) -> None:
    names = _reports([teacher, pupil, head_of_school])

    found = phishing_reports.campaigns()

    assert [{names[r.pk] for r in c.reports} for c in found] == EXPECTED
    quota = found[0]
    assert (quota.count, quota.reporters) == (4, 3)
    assert quota.link_domains == ["quota-owa.example"]
    assert quota.senders == [IMPOSTOR, "x@autre.example", "y@encore.example"]
    assert quota.first_seen < quota.last_seen


def test_only_the_dsi_sees_the_campaigns(
    dsi: Any, teacher: Any, referent: Any, pupil: Any, head_of_school: Any
) -> None:
    names = _reports([teacher, pupil, head_of_school])
    quota = next(pk for pk, name in names.items() if name == "quota-3")
    for person in (teacher, referent):
        assert client_of(person).get(reverse("mail:phishing_campaigns")).status_code == 403
        url = reverse("mail:phishing_campaign", args=[quota])
        assert client_of(person).get(url).status_code == 403

    listing = text_of(client_of(dsi).get(reverse("mail:phishing_campaigns")))
    detail = text_of(client_of(dsi).get(reverse("mail:phishing_campaign", args=[quota])))

    assert "Dernier avertissement" in listing and "Votre prime" in listing
    assert f"({pupil.login})" in detail and "Colis en attente" in detail
    assert "Votre prime" not in detail


def test_the_dsis_warning_reaches_everyone(dsi: Any, teacher: Any, parent: Any) -> None:
    names = _reports([teacher])
    quota = next(pk for pk, name in names.items() if name == "quota-1")
    browser = client_of(dsi)
    url = reverse("mail:phishing_campaign", args=[quota])
    refused = browser.post(url, {"titre": "", "texte": "x"})
    assert refused.status_code == 400 and not PhishingWarning.objects.exists()

    response = browser.post(
        url,
        {
            "titre": "Faux message : « Votre quota est dépassé »",
            "texte": "Ne cliquez pas sur le lien et supprimez ce message.",
        },
        follow=True,
    )

    assert "L'alerte est publiée" in text_of(response)
    warning = PhishingWarning.objects.get()
    assert warning.created_by == dsi and IMPOSTOR in warning.campaign
    assert AuditEvent.objects.filter(event_type="mail.phishing_warning_sent", actor=dsi).exists()
    # A parent (no mailbox) and a teacher on their dashboard, anyone on the sign-in page.
    for page in (
        text_of(client_of(parent).get(reverse("portal:dashboard"))),
        text_of(client_of(teacher).get(reverse("portal:dashboard"))),
        text_of(Client().get(reverse("account_login"))),
    ):
        assert "Faux message : « Votre quota est dépassé »" in page
        assert "Ne cliquez pas sur le lien" in page


@pytest.mark.usefixtures("immediate_tasks")
def test_the_warning_is_a_security_notification_to_every_mailbox_holder(
    dsi: Any, teacher: Any, pupil: Any, parent: Any, django_capture_on_commit_callbacks: Any
) -> None:
    names = _reports([teacher])
    quota = next(pk for pk, name in names.items() if name == "quota-1")
    with django_capture_on_commit_callbacks(execute=True):
        client_of(dsi).post(
            reverse("mail:phishing_campaign", args=[quota]),
            {"titre": "Faux message « quota »", "texte": "Ne cliquez pas sur le lien."},
        )
    warning = PhishingWarning.objects.get()
    told = Notification.objects.filter(key=f"phishing-warning-{warning.pk}")
    holders = set(User.objects.with_academic_mailbox().values_list("pk", flat=True))
    assert set(told.values_list("recipient", flat=True)) == holders
    assert {teacher.pk, pupil.pk, dsi.pk} <= holders and parent.pk not in holders
    one = told.get(recipient=teacher)
    assert one.category == "securite" and one.title == "Faux message « quota »"
    assert one.body == "Ne cliquez pas sur le lien."
    assert one.url == reverse("help:guide", args=["reconnaitre-un-hameconnage"])
    # The task run twice (a worker restarted) tells nobody twice.
    assert mail_tasks.notify_phishing_warning.call(warning_pk=warning.pk) == 0


def test_a_warning_is_shown_fourteen_days(dsi: Any, parent: Any) -> None:
    PhishingWarning.objects.create(
        created_by=dsi,
        campaign="ancienne",
        title="Alerte ancienne",
        text="…",
        created_at=timezone.now() - datetime.timedelta(days=15),
    )
    PhishingWarning.objects.create(created_by=dsi, campaign="récente", title="Alerte", text="…")

    page = text_of(client_of(parent).get(reverse("portal:dashboard")))

    assert "Alerte" in page and "Alerte ancienne" not in page


# --- The demo -------------------------------------------------------------------------------


@pytest.fixture
def demo_servers(demo_mail_servers: MailServers, settings: Any) -> MailServers:
    settings.MAIL_SECURITY_ADDRESS = "signalement-hameconnage@ac-besancon.fr"
    return demo_mail_servers


def test_the_demo_teacher_reports_the_demo_phishing_message(
    teacher: Any, demo_servers: MailServers, tmp_path: Path
) -> None:
    box = Box(demo_servers.ports.imap, teacher)
    box.client.select_folder("INBOX", readonly=True)
    (uid,) = box.client.search(["FROM", PHISHING_DOMAIN])
    browser = client_of(teacher)
    message_page = text_of(browser.get(reverse("mail:message", args=[uid]) + "?dossier=INBOX"))
    assert "Signaler un hameçonnage" in message_page

    page = text_of(report(browser, uid))

    assert "transmis à la cellule sécurité" in page
    saved = PhishingReport.objects.get(reporter=teacher)
    assert saved.sender_domain == PHISHING_DOMAIN and saved.forwarded
    assert saved.link_domains == [PHISHING_DOMAIN]
    (kept,) = box.uids("Junk")
    box.client.logout()
    shown = text_of(browser.get(reverse("mail:message", args=[kept]) + "?dossier=Junk"))
    assert "Message signalé comme hameçonnage le" in shown
    # The demo files mail for addresses it does not know in its catch-all, never sends it.
    catch_all = std_mailbox.Maildir(tmp_path / "demo-mail" / CATCH_ALL, create=False)
    (forwarded,) = [
        parsed
        for parsed in (
            email.message_from_bytes(m.as_bytes(), policy=email.policy.default) for m in catch_all
        )
        if str(parsed["Subject"]).startswith("Signalement d'hameçonnage")
    ]
    attached = [p for p in forwarded.iter_parts() if p.get_content_type() == "message/rfc822"]
    assert len(attached) == 1
