"""The writes of phishing defence: a person reports a message, the DSI warns everyone.

**Reporting** (« Signaler un hameçonnage »). The reported message is sent whole, as a
``message/rfc822`` attachment byte for byte as the server holds it (line ends made CRLF),
to the académie's security address (``MAIL_SECURITY_ADDRESS``), *from the reporter's own
address, through their own submission* (the webmail's token, like
:func:`actions.send_message`). That path was chosen over the portal's outbox: the security
team receives a message the académie's relay authenticated as the reporter (they can answer
them, and no portal-wide sender can be abused to mail the security team), and it is the way
out every other message of the webmail takes (the outbox would need relay credentials of its
own). It is *not* a sent message of the person: no copy in « Envoyés », no webmail sending
count (reports have their own hourly limit); a relay that counts every submission (the
sending limits' policy service) counts it as one recipient.

The message then gets the ``\\Seen`` flag and the ``$Phishing`` keyword and moves to the
special-use ``\\Junk`` folder (« Indésirables »; created as ``Junk`` if the server has none).
A :class:`PhishingReport` keeps what the DSI needs to group campaigns (sender, subject, the
domains of its links, Message-ID — never the body). Once per person and message: the
database's unique constraint on (reporter, Message-ID) is the lock, so a double click or two
tabs send once; a message without Message-ID is known as reported by its keyword.

**Warning everyone**: :func:`warn_about_campaign` records the DSI's :class:`PhishingWarning`
and hands it to :func:`publish_warning`: the notices everywhere, and a security notification
to every mailbox holder.
"""

from __future__ import annotations

import email.utils
import logging
import re
import secrets
from dataclasses import dataclass
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage, MIMEPart
from html.parser import HTMLParser
from urllib.parse import urlsplit

import imapclient
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.core import ratelimit
from convergence.mail import (
    compose,
    connections,
    events,
    mailbox,
    phishing,
    rendering,
    submission,
    tasks,
)
from convergence.mail.models import PhishingReport, PhishingWarning

logger = logging.getLogger(__name__)

PHISHING_KEYWORD = "$Phishing"
# Reports one person may make per hour (each one mails the security team).
REPORTS_PER_HOUR = 30
# Link domains kept per report (a message with hundreds of links is not a campaign's key).
MAX_LINK_DOMAINS = 20
# The cache key of the warnings shown to everyone (mail/phishing_reports.py reads it).
WARNINGS_CACHE_KEY = "mail:phishing-warnings"
_URL_IN_TEXT = re.compile(r"(?i)\b(?:https?|ftp)://[^\s<>\"')\]]+")


class ReportError(Exception):
    """A report that cannot be made, with the French sentence to show."""


@dataclass(frozen=True)
class ReportOutcome:
    report: PhishingReport | None
    already: bool  # reported before: nothing was sent again
    forwarded: bool  # the security address accepted the message (now or before)


# --- What a message says about itself ---------------------------------------------------------


class _LinkCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"a": "href", "area": "href", "form": "action"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def _host(url: str) -> str:
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    host = host.strip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def link_domains(raw: bytes) -> list[str]:
    """The host names the message's links point to (HTML links and addresses written in the
    text), the académie's own left out (an impostor often adds one real link), sorted."""
    message = rendering.parse_message(raw)
    urls: list[str] = []
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() != "text":
            continue
        if part.get_content_disposition() == "attachment":
            continue
        try:
            content = part.get_content()
        except (LookupError, ValueError, AssertionError):
            continue
        if not isinstance(content, str):
            continue
        if part.get_content_subtype() == "html":
            collector = _LinkCollector()
            try:
                collector.feed(content)
                collector.close()
            except (ValueError, AssertionError):
                pass
            # Only what a reader can follow: the page's own markup (a DOCTYPE, an xmlns)
            # names w3.org in nearly every HTML mail and would chain every campaign into one.
            urls.extend(collector.urls)
        else:
            urls.extend(_URL_IN_TEXT.findall(content))
    officials = phishing.official_domains()
    hosts = {_host(url) for url in urls if url.lower().startswith(("http:", "https:", "ftp:"))}
    found = sorted(
        host
        for host in hosts
        if host
        and not any(host == official or host.endswith("." + official) for official in officials)
    )
    return found[:MAX_LINK_DOMAINS]


# --- Reporting ------------------------------------------------------------------------------


def _security_message(
    user: User, raw: bytes, rendered: rendering.RenderedMessage, domains: list[str]
) -> EmailMessage:
    """From the reporter to the security address: a short French text, then the original
    whole as message/rfc822 — its bytes written as they are (the email package would refold
    its headers), between boundaries it does not contain."""
    # SMTP lines end with CRLF (a server such as the demo's may hand out bare LFs: sent as
    # they are, they would make one line too long for the relay).
    raw = re.sub(rb"\r?\n", b"\r\n", raw)
    boundary = f"=_convergence_{secrets.token_hex(16)}"
    while boundary.encode() in raw:
        boundary = f"=_convergence_{secrets.token_hex(16)}"
    sender = rendered.sender
    text = "\n".join(
        [
            _("Bonjour,"),
            "",
            _(
                "%(name)s (identifiant %(login)s, %(address)s) signale le message joint comme une "
                "tentative d'hameçonnage, depuis la messagerie web du portail."
            )
            % {"name": user.get_full_name(), "login": user.login, "address": user.email},
            "",
            _("Expéditeur : %(sender)s")
            % {"sender": f"{sender.name} <{sender.email}>" if sender else "?"},
            _("Objet : %(subject)s") % {"subject": rendered.subject},
            _("Identifiant du message : %(id)s") % {"id": rendered.message_id or "-"},
            _("Domaines des liens : %(domains)s") % {"domains": ", ".join(domains) or "-"},
            "",
            _(
                "Le message d'origine est joint tel qu'il a été reçu (fichier .eml) : n'ouvrez "
                "pas ses liens ni ses pièces jointes hors d'un poste d'analyse."
            ),
        ]
    )
    intro = MIMEPart(policy=compose.POLICY)
    intro.set_content(text + "\n", cte="quoted-printable")
    clean = " ".join(rendered.subject.split())[:150]
    message = EmailMessage(policy=compose.POLICY)
    message["From"] = HeaderAddress(
        display_name=user.get_full_name(), addr_spec=compose.own_address(user)
    )
    message["To"] = settings.MAIL_SECURITY_ADDRESS
    message["Subject"] = _("Signalement d'hameçonnage : %(subject)s") % {
        "subject": clean or _("(sans objet)")
    }
    message["Date"] = email.utils.format_datetime(timezone.now())
    message["Message-ID"] = email.utils.make_msgid(
        domain=compose.own_address(user).rpartition("@")[2]
    )
    message["User-Agent"] = "Convergence"
    message["MIME-Version"] = "1.0"
    message["Content-Type"] = f'multipart/mixed; boundary="{boundary}"'
    encoding = "7bit" if raw.isascii() else "8bit"
    attached = (
        b'Content-Type: message/rfc822\r\nContent-Disposition: attachment; filename="'
        b'message-signale.eml"\r\nContent-Transfer-Encoding: ' + encoding.encode() + b"\r\n\r\n"
    )
    separator = b"--" + boundary.encode()
    body = b"".join(
        [
            b"This is a multi-part message in MIME format.\r\n",
            separator + b"\r\n",
            intro.as_bytes(policy=compose.POLICY),
            b"\r\n" + separator + b"\r\n",
            attached,
            raw,
            b"" if raw.endswith(b"\r\n") else b"\r\n",
            separator + b"--\r\n",
        ]
    )
    # A multipart message whose payload is a string is written as it is by the generator
    # (smtplib's), bytes included through surrogate escapes.
    message.set_payload(body.decode("ascii", "surrogateescape"))
    return message


def _quarantine(connection: connections._Connection, folder: str, uid: int) -> None:
    mailbox.mark(connection, folder, uid, imapclient.SEEN)
    mailbox.mark(connection, folder, uid, PHISHING_KEYWORD.encode())
    junk = mailbox.ensure_special_folder(connection, "\\Junk")
    if junk != folder:
        mailbox.act(connection, folder, [uid], mailbox.Action.MOVE, target=junk)


def _forward(user: User, message: EmailMessage) -> bool:
    try:
        refused = submission.send(user, message, [settings.MAIL_SECURITY_ADDRESS])
    except (submission.SendRefused, connections.MailUnavailable) as error:
        logger.warning("A phishing report of %s could not be forwarded: %s", user.pk, error)
        return False
    if refused:
        logger.warning("The security address refused a phishing report: %s", refused)
    return not refused


def report_phishing(
    *, user: User, folder: str, uid: int, request: HttpRequest | None = None
) -> ReportOutcome:
    """Report the message ``uid`` of ``folder`` — of the person's own mailbox: the
    connection is theirs, so another person's UID is at most one of their own messages.

    Guarantees: once per person and message (a second report changes nothing and says so);
    the report row, its audit entry and the move to Junk succeed or fail together (a mail
    server failing midway leaves no row, so the person can try again); the forwarding is
    done after, its failure recorded as ``forwarded=False`` (the DSI still sees the report).
    Raises ``LookupError`` (no such message), :class:`ReportError` (too large, too many
    reports this hour) and :class:`connections.MailUnavailable`.
    """
    with connections.session(user) as connection:
        fetched = mailbox.fetch_message(connection, folder, uid, mark_seen=False)
        if fetched.too_large:
            raise ReportError(
                _(
                    "Ce message est trop volumineux pour être transmis depuis la messagerie web : "
                    "déplacez-le dans « Indésirables » et signalez-le à l'assistance."
                )
            )
        rendered = rendering.render_message(fetched.raw, allow_remote=False, part_url=lambda p: "")
        message_id = rendered.message_id[:255]
        existing = (
            PhishingReport.objects.filter(reporter=user, message_id=message_id).first()
            if message_id
            else None
        )
        if existing is not None or (not message_id and PHISHING_KEYWORD in fetched.flags):
            if PHISHING_KEYWORD not in fetched.flags:
                _quarantine(connection, folder, uid)  # another copy of a reported message
            return ReportOutcome(
                existing, already=True, forwarded=bool(existing and existing.forwarded)
            )
        try:
            waited = ratelimit.hit(
                ratelimit.key("mail-phishing-report", user.pk), limit=REPORTS_PER_HOUR, window=3600
            )
        except ratelimit.LimiterUnavailable:
            waited = 60
        if waited:
            raise ReportError(
                _(
                    "Vous avez signalé beaucoup de messages en peu de temps : réessayez dans "
                    "quelques minutes, ou écrivez à l'assistance."
                )
            )
        sender = rendered.sender
        address = (sender.email if sender else "")[:254]
        domains = link_domains(fetched.raw)
        try:
            with transaction.atomic():
                report = PhishingReport.objects.create(
                    reporter=user,
                    sender_address=address.lower(),
                    sender_name=(sender.name if sender else "")[:255],
                    sender_domain=address.rpartition("@")[2].lower()[:254],
                    subject=" ".join(rendered.subject.split())[:255],
                    link_domains=domains,
                    message_id=message_id,
                )
                record_event(
                    event_type=events.PHISHING_REPORTED,
                    request=request,
                    actor=user,
                    subject=user,
                    data={"report": report.pk, "sender_domain": report.sender_domain},
                )
                _quarantine(connection, folder, uid)
        except IntegrityError:
            # The same message reported at the same moment (a double click, two tabs).
            existing = PhishingReport.objects.filter(reporter=user, message_id=message_id).first()
            return ReportOutcome(existing, already=True, forwarded=False)
    forwarded = _forward(user, _security_message(user, fetched.raw, rendered, domains))
    if forwarded:
        PhishingReport.objects.filter(pk=report.pk).update(forwarded=True)
        report.forwarded = True
    return ReportOutcome(report, already=False, forwarded=forwarded)


# --- Warning everyone -----------------------------------------------------------------------


def warn_about_campaign(
    *, acting_user: User, campaign: str, title: str, text: str, request: HttpRequest | None = None
) -> PhishingWarning:
    """The DSI warns everyone about one campaign (``campaign``: how the DSI's page named it).
    One row and its audit entry in one transaction; published once committed."""
    with transaction.atomic():
        warning = PhishingWarning.objects.create(
            created_by=acting_user,
            campaign=campaign[:300],
            title=" ".join(title.split())[:160],
            text=text.strip()[:4000],
        )
        record_event(
            event_type=events.PHISHING_WARNING_SENT,
            request=request,
            actor=acting_user,
            data={"warning": warning.pk, "campaign": warning.campaign[:120]},
        )
        transaction.on_commit(lambda: publish_warning(warning))
    return warning


def publish_warning(warning: PhishingWarning) -> None:
    """Bring ``warning`` to everyone: THE one place a phishing warning leaves the mail app.

    Two ways, both at once: the notices of the sign-in page and of every dashboard
    (``core.notices``, provider ``mail.phishing_reports.warning_notices``, shown for
    ``phishing_reports.WARNING_DAYS`` days; dropping the cached list makes it appear at once
    in every process sharing the cache, others within a minute), and a security notification
    to every person with an academic mailbox (``tasks.notify_phishing_warning``, in the
    worker: the centre, and the e-mail and push their category cannot switch off).
    """
    cache.delete(WARNINGS_CACHE_KEY)
    try:
        tasks.notify_phishing_warning.enqueue(warning_pk=warning.pk)
    except Exception:  # the queue is down: the notices still show it everywhere
        logger.exception("Phishing warning %s: notifications not queued", warning.pk)
    logger.info("Phishing warning %s published: %s", warning.pk, warning.title)
