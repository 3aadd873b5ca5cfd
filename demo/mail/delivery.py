"""The demo's delivery step: the person's active Sieve script runs on every message, as
Pigeonhole does for Dovecot in production.

The script is the one the webmail writes over ManageSieve (``<maildir>/dovecot.sieve``, the
active link of :mod:`demo.mail.sieve`), parsed with sievelib and evaluated here. It covers
the vocabulary of the portal's rules and vacation reply (docs/mail.md, "Rules and vacation
reply") and the usual hand-written commands (``keep``, ``discard``, ``elsif``/``else``,
``envelope``, ``size``…):

* ``fileinto`` stores into the Maildir++ folder pymap uses for that name (``Autres`` is
  ``.Autres``, ``Direction/Vie scolaire`` is ``.Direction.Vie scolaire``); a folder that does
  not exist keeps the message in the INBOX, as Dovecot does without autocreation;
* ``addflag``/``setflag``/``removeflag`` set the maildir flags (``\\Seen`` is ``S``); a
  ``fileinto`` takes the flags set before it, the implicit keep those set at the end;
* ``redirect`` delivers to a person of the académie through this same step (their own script
  runs, at most :data:`MAX_HOPS` deep); an outside address is logged and dropped: the demo
  never sends anything out;
* ``vacation`` answers once per sender and per ``:days``, remembered in a small JSON file of
  the maildir, never to a list, a bulk or automatic message, nor to the person's own address,
  and only when one of the person's addresses is a recipient; the reply reaches a person of
  the académie through this step, any other sender is logged and dropped;
* ``execute :pipe "convergence-notify"`` tells the portal (``POST
  /messagerie/serveur/notification/`` with the demo's server client), as
  ``deploy/mail/notify.py`` does for Dovecot;
* ``stop``, and the implicit keep into the INBOX.

Mail is never lost: a script that does not parse, or uses a command outside this list, or
fails at run time is logged and the message is kept in the INBOX, untouched.
"""

from __future__ import annotations

import contextlib
import datetime
import email
import email.policy
import email.utils
import hashlib
import json
import logging
import mailbox
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
import sievelib.commands as sieve_commands  # type: ignore[import-untyped]
from pymap.backend.maildir.layout import DefaultLayout
from sievelib.parser import Parser  # type: ignore[import-untyped]

from demo.mail.auth import PortalChecker
from demo.web import TimeoutSession

logger = logging.getLogger(__name__)

INBOX = "INBOX"
# Pymap's folder delimiter for its maildir backend (folders are Maildir++ ".A.B").
DELIMITER = "/"
# A redirect or a vacation reply to a person of the académie is delivered through this step:
# loops (two people forwarding to each other) stop here.
MAX_HOPS = 5
# Pigeonhole's default sieve_max_redirects.
MAX_REDIRECTS = 4
MAX_SCRIPT_BYTES = 1024 * 1024
NOTIFY_PROGRAM = "convergence-notify"
NOTIFICATION_PATH = "/messagerie/serveur/notification/"
VACATION_STATE = ".convergence-vacation.json"
VACATION_DEFAULT_DAYS = 7
# Entries older than this are forgotten (the longest :days the portal offers is far below).
VACATION_MEMORY = datetime.timedelta(days=365)
VACATION_MAX_ENTRIES = 10_000
# Dates of ``currentdate`` are the académie's.
ZONE = ZoneInfo("Europe/Paris")
MAILDIR_FLAGS = {
    "\\seen": "S",
    "\\flagged": "F",
    "\\answered": "R",
    "\\deleted": "T",
    "\\draft": "D",
}
LIST_HEADERS = (
    "list-id",
    "list-unsubscribe",
    "list-post",
    "list-owner",
    "list-subscribe",
    "list-help",
    "list-archive",
)
BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})

# Resolves an address of the académie to its login, or None (submission.Directory).
Directory = Callable[[str], "str | None"]


# --- sievelib: the two forms of the contract it does not know ------------------------------


class HeaderCommand(sieve_commands.HeaderCommand):  # type: ignore[misc]
    """``header`` with the ``mime`` extension's ``:mime :anychild`` (RFC 5703)."""

    args_definition = [
        {"name": "mime", "type": ["tag"], "values": [":mime"], "extension": "mime"},
        {"name": "anychild", "type": ["tag"], "values": [":anychild"], "extension": "mime"},
        *sieve_commands.HeaderCommand.args_definition,
    ]


class ExecuteCommand(sieve_commands.ActionCommand):  # type: ignore[misc]
    """Pigeonhole's ``execute`` (vnd.dovecot.execute): ``[:pipe] [:input s] [:output v]
    "program" [arguments]``."""

    extension = "vnd.dovecot.execute"
    args_definition = [
        {"name": "pipe", "type": ["tag"], "values": [":pipe"]},
        {"name": "input", "type": ["tag"], "values": [":input"], "extra_arg": {"type": "string"}},
        {
            "name": "output",
            "type": ["tag"],
            "values": [":output"],
            "extra_arg": {"type": "string"},
        },
        {"name": "program", "type": ["string"], "required": True},
        {"name": "arguments", "type": ["string", "stringlist"], "required": False},
    ]


# sievelib looks commands up by class name in its module: registering replaces ``header``
# with a superset and adds ``execute``, for every sievelib parser of this process.
sieve_commands.add_commands([HeaderCommand, ExecuteCommand])


class SieveError(Exception):
    """The script cannot be run (not parsed, unknown command, wrong argument)."""


# --- notifications --------------------------------------------------------------------------


@dataclass(frozen=True)
class Notification:
    """What ``execute :pipe "convergence-notify"`` tells the portal."""

    login: str
    sender: str
    subject: str
    message_id: str


Notifier = Callable[[Notification], None]


def portal_notifier(checker: PortalChecker) -> Notifier:
    """POSTs to the portal with the demo's server client, like the checks of ``auth.py``;
    bounded by the checker's timeout; never raises (a lost notification is only logged)."""

    def notify(notification: Notification) -> None:
        data = {
            "login": notification.login,
            "sender": notification.sender,
            "subject": notification.subject,
            "message_id": notification.message_id,
        }
        try:
            with TimeoutSession(checker.timeout) as session:
                response = session.post(
                    f"{checker.portal}{NOTIFICATION_PATH}", data=data, auth=checker.auth
                )
        except requests.RequestException as error:
            logger.warning("Notification non transmise au portail (%s).", error)
            return
        if response.status_code != 204:
            logger.warning("Notification refusée par le portail (HTTP %s).", response.status_code)

    return notify


# --- what a run decides -----------------------------------------------------------------------


@dataclass
class Vacation:
    reason: str
    days: int
    subject: str | None
    from_address: str | None
    addresses: list[str]
    handle: str


@dataclass
class Outcome:
    """The actions a script run asked for, performed once the run is over."""

    implicit_keep: bool = True
    flags: set[str] = field(default_factory=set)  # imap4flags' internal variable
    stores: list[tuple[str, frozenset[str]]] = field(default_factory=list)
    redirects: list[str] = field(default_factory=list)
    vacation: Vacation | None = None
    notify: bool = False


@dataclass
class Delivered:
    """What happened to one message (for the log and the tests)."""

    login: str
    folders: list[str] = field(default_factory=list)
    redirected: list[str] = field(default_factory=list)
    replied_to: str = ""
    notified: bool = False
    error: str = ""


# --- values -----------------------------------------------------------------------------------


def _string(value: Any) -> str:
    """A Sieve string as parsed by sievelib: quoted, or ``text:`` multi-line."""
    if not isinstance(value, str):
        raise SieveError(f"string expected, got {value!r}")
    if value.startswith("text:"):
        body = value.split("\n", 1)[1] if "\n" in value else ""
        body = re.sub(r"\r?\n\.\r?$", "", body.rstrip("\r\n") + "\n")
        lines = [line[1:] if line.startswith("..") else line for line in body.split("\n")]
        return "\n".join(lines).replace("\r", "")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1], flags=re.DOTALL)
    raise SieveError(f"string expected, got {value!r}")


def _strings(value: Any) -> list[str]:
    if isinstance(value, list):
        return [_string(item) for item in value]
    return [_string(value)]


def _number(value: Any) -> int:
    text = str(value).strip()
    multiplier = {"k": 1024, "m": 1024**2, "g": 1024**3}.get(text[-1:].lower(), 1)
    digits = text[:-1] if multiplier != 1 else text
    if not digits.isdigit():
        raise SieveError(f"number expected, got {value!r}")
    return int(digits) * multiplier


def _matches(pattern: str, value: str, *, fold: bool) -> bool:
    """``:matches``: ``*`` any run, ``?`` one character, backslash escapes."""
    regex = []
    escaped = False
    for character in pattern:
        if escaped:
            regex.append(re.escape(character))
            escaped = False
        elif character == "\\":
            escaped = True
        elif character == "*":
            regex.append(".*")
        elif character == "?":
            regex.append(".")
        else:
            regex.append(re.escape(character))
    flags = re.DOTALL | (re.IGNORECASE if fold else 0)
    return re.fullmatch("".join(regex), value, flags) is not None


_RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
}


def _compare(command: Any, values: list[str], keys: list[str]) -> bool:
    """The match type and comparator of ``command`` applied to ``values`` and ``keys``."""
    match = command.arguments.get("match-type", ":is").lower()
    comparator = _string(command.extra_arguments.get("comparator", '"i;ascii-casemap"'))
    fold = comparator != "i;octet"

    def norm(text: str) -> str:
        return text.lower() if fold else text

    if match == ":count":
        relation = _RELATIONS[_string(command.extra_arguments["match-type"])]
        return any(key.isdigit() and relation(len(values), int(key)) for key in keys)
    for value in values:
        for key in keys:
            if match == ":is" and norm(value) == norm(key):
                return True
            if match == ":contains" and norm(key) in norm(value):
                return True
            if match == ":matches" and _matches(key, value, fold=fold):
                return True
            if match == ":value":
                relation = _RELATIONS[_string(command.extra_arguments["match-type"])]
                if relation(norm(value), norm(key)):
                    return True
    if match not in {":is", ":contains", ":matches", ":value"}:
        raise SieveError(f"match type {match} not supported")
    return False


def _header_values(message: Message, name: str) -> list[str]:
    try:
        return [str(value) for value in message.get_all(name) or []]
    except Exception:  # a header the parser cannot decode: compare its raw text
        return [str(value) for value in message.get_all(name, failobj=[]) or []]


def _addresses(message: Message, names: Iterable[str]) -> list[str]:
    raw = [value for name in names for value in _header_values(message, name)]
    return [address for _name, address in email.utils.getaddresses(raw) if "@" in address]


def _address_part(address: str, part: str) -> str:
    local, _at, domain = address.rpartition("@")
    if part == ":localpart":
        return local
    if part == ":domain":
        return domain
    return address


def _date_part(moment: datetime.datetime, part: str) -> str:
    parts = {
        "year": f"{moment:%Y}",
        "month": f"{moment:%m}",
        "day": f"{moment:%d}",
        "date": f"{moment:%Y-%m-%d}",
        "hour": f"{moment:%H}",
        "minute": f"{moment:%M}",
        "second": f"{moment:%S}",
        "time": f"{moment:%H:%M:%S}",
        "iso8601": moment.isoformat(),
        "std11": email.utils.format_datetime(moment),
        "zone": f"{moment:%z}",
        "weekday": str(moment.isoweekday() % 7),
    }
    if part.lower() not in parts:
        raise SieveError(f"date part {part!r} not supported")
    return parts[part.lower()]


# --- the interpreter --------------------------------------------------------------------------


class _Stop(Exception):
    pass


@dataclass
class _Run:
    """One evaluation of a parsed script against one message."""

    message: Message
    size: int
    envelope_sender: str
    envelope_recipient: str
    now: datetime.datetime
    outcome: Outcome = field(default_factory=Outcome)

    def run(self, commands: list[Any]) -> Outcome:
        with contextlib.suppress(_Stop):
            self._block(commands)
        return self.outcome

    def _block(self, commands: list[Any]) -> None:
        previous_matched: bool | None = None
        for command in commands:
            name = command.name
            if name == "if":
                previous_matched = self._test(command.arguments["test"])
                if previous_matched:
                    self._block(command.children)
                continue
            if name in ("elsif", "else"):
                if previous_matched is None:
                    raise SieveError(f"{name} without if")
                if previous_matched:
                    continue
                if name == "else":
                    previous_matched = None
                    self._block(command.children)
                    continue
                previous_matched = self._test(command.arguments["test"])
                if previous_matched:
                    self._block(command.children)
                continue
            previous_matched = None
            self._action(command)

    # tests

    def _test(self, test: Any) -> bool:
        name = test.name
        arguments = test.arguments
        if name == "true":
            return True
        if name == "false":
            return False
        if name == "not":
            return not self._test(arguments["test"])
        if name == "allof":
            return all(self._test(child) for child in arguments["tests"])
        if name == "anyof":
            return any(self._test(child) for child in arguments["tests"])
        if name == "exists":
            names = _strings(arguments["header-names"])
            return all(self.message.get(header) is not None for header in names)
        if name == "header":
            names = _strings(arguments["header-names"])
            parts = (
                list(self.message.walk())
                if "mime" in arguments and "anychild" in arguments
                else [self.message]
            )
            values = [v for part in parts for header in names for v in _header_values(part, header)]
            return _compare(test, values, _strings(arguments["key-list"]))
        if name == "address":
            part = arguments.get("address-part", ":all").lower()
            found = _addresses(self.message, _strings(arguments["header-list"]))
            values = [_address_part(address, part) for address in found]
            return _compare(test, values, _strings(arguments["key-list"]))
        if name == "envelope":
            part = arguments.get("address-part", ":all").lower()
            values = []
            for which in _strings(arguments["header-list"]):
                address = {"from": self.envelope_sender, "to": self.envelope_recipient}.get(
                    which.lower(), ""
                )
                if address:
                    values.append(_address_part(address, part))
            return _compare(test, values, _strings(arguments["key-list"]))
        if name == "size":
            limit = _number(arguments["limit"])
            if arguments["comparator"].lower() == ":over":
                return self.size > limit
            return self.size < limit
        if name == "currentdate":
            moment = self.now.astimezone(ZONE)
            if "zone" in arguments:
                offset = _string(test.extra_arguments["zone"])
                hours, minutes = int(offset[:3]), int(offset[0] + offset[3:5])
                moment = self.now.astimezone(
                    datetime.timezone(datetime.timedelta(hours=hours, minutes=minutes))
                )
            value = _date_part(moment, _string(arguments["date-part"]))
            return _compare(test, [value], _strings(arguments["key-list"]))
        raise SieveError(f"test {name!r} not supported")

    # actions

    def _flags_of(self, value: Any) -> set[str]:
        return {flag.lower() for item in _strings(value) for flag in item.split()}

    def _action(self, command: Any) -> None:
        name = command.name
        arguments = command.arguments
        outcome = self.outcome
        if name == "require":
            return
        if name == "stop":
            raise _Stop
        if name == "keep":
            flags = (
                self._flags_of(command.extra_arguments["flags"])
                if "flags" in arguments
                else outcome.flags
            )
            outcome.stores.append((INBOX, frozenset(flags)))
            outcome.implicit_keep = False
            return
        if name == "discard":
            outcome.implicit_keep = False
            return
        if name == "fileinto":
            flags = (
                self._flags_of(command.extra_arguments["flags"])
                if "flags" in arguments
                else outcome.flags
            )
            outcome.stores.append((_string(arguments["mailbox"]), frozenset(flags)))
            if "copy" not in arguments:
                outcome.implicit_keep = False
            return
        if name in ("addflag", "setflag", "removeflag"):
            flags = self._flags_of(arguments["list-of-flags"])
            if name == "setflag":
                outcome.flags = set(flags)
            elif name == "addflag":
                outcome.flags |= flags
            else:
                outcome.flags -= flags
            return
        if name == "redirect":
            address = _string(arguments["address"]).strip()
            if len(outcome.redirects) >= MAX_REDIRECTS:
                raise SieveError("too many redirects")
            if address.lower() not in (a.lower() for a in outcome.redirects):
                outcome.redirects.append(address)
            if "copy" not in arguments:
                outcome.implicit_keep = False
            return
        if name == "vacation":
            if outcome.vacation is not None:
                raise SieveError("more than one vacation")
            extra = command.extra_arguments
            days = _number(extra["days"]) if "days" in arguments else VACATION_DEFAULT_DAYS
            reason = _string(arguments["reason"])
            subject = _string(extra["subject"]) if "subject" in arguments else None
            from_address = _string(extra["from"]) if "from" in arguments else None
            handle = (
                _string(extra["handle"])
                if "handle" in arguments
                else hashlib.sha256(f"{subject}\0{from_address}\0{reason}".encode()).hexdigest()
            )
            outcome.vacation = Vacation(
                reason=reason,
                days=max(1, days),
                subject=subject,
                from_address=from_address,
                addresses=_strings(extra["addresses"]) if "addresses" in arguments else [],
                handle=handle,
            )
            return
        if name == "execute":
            program = _string(arguments["program"])
            if program == NOTIFY_PROGRAM:
                outcome.notify = True
            else:
                logger.warning("Programme %r inconnu : execute ignoré.", program)
            return
        raise SieveError(f"command {name!r} not supported")


def evaluate(
    script: str | bytes,
    raw: bytes,
    *,
    envelope_sender: str = "",
    envelope_recipient: str = "",
    now: datetime.datetime | None = None,
) -> Outcome:
    """What ``script`` decides for the message ``raw``; raises :class:`SieveError`."""
    parser = Parser()
    if not parser.parse(script if isinstance(script, bytes) else script.encode("utf-8")):
        raise SieveError(f"script not parsed: {parser.error}")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    run = _Run(
        message=message,
        size=len(raw),
        envelope_sender=envelope_sender,
        envelope_recipient=envelope_recipient,
        now=now or datetime.datetime.now(datetime.UTC),
    )
    try:
        return run.run(parser.result)
    except SieveError:
        raise
    except (KeyError, ValueError, TypeError, IndexError) as error:
        raise SieveError(f"{type(error).__name__}: {error}") from error


# --- delivery ---------------------------------------------------------------------------------

_vacation_locks: dict[Path, threading.Lock] = {}
_vacation_locks_guard = threading.Lock()


def _vacation_lock(path: Path) -> threading.Lock:
    with _vacation_locks_guard:
        return _vacation_locks.setdefault(path, threading.Lock())


def _sender_of(message: Message, envelope_sender: str) -> str:
    if envelope_sender:
        return envelope_sender.strip().strip("<>")
    for header in ("Return-Path", "Sender", "From"):
        found = _addresses(message, [header])
        if found:
            return found[0]
    return ""


@dataclass
class Delivery:
    """Delivers into ``<base_dir>/<login>`` after the person's active script."""

    base_dir: Path
    directory: Directory
    notifier: Notifier | None = None
    clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC)

    def deliver(
        self,
        login: str,
        content: bytes,
        *,
        envelope_sender: str = "",
        envelope_recipient: str = "",
        hops: int = 0,
    ) -> Delivered:
        """Run ``login``'s active script on ``content`` and do what it says; the message
        is always stored somewhere (the INBOX when the script cannot be run)."""
        result = Delivered(login=login)
        root = self.base_dir / login
        mailbox.Maildir(root, create=True)
        script = self._active_script(root)
        if script is None:
            self._store(root, INBOX, content, frozenset(), result)
            return result
        try:
            outcome = evaluate(
                script,
                content,
                envelope_sender=envelope_sender,
                envelope_recipient=envelope_recipient,
                now=self.clock(),
            )
        except SieveError as error:
            logger.warning("Script Sieve de %s non exécuté (%s) : message gardé.", login, error)
            result.error = str(error)
            self._store(root, INBOX, content, frozenset(), result)
            return result
        for folder, flags in outcome.stores:
            self._store(root, folder, content, flags, result)
        if outcome.implicit_keep:
            self._store(root, INBOX, content, frozenset(outcome.flags), result)
        message = email.message_from_bytes(content, policy=email.policy.default)
        sender = _sender_of(message, envelope_sender)
        for address in outcome.redirects:
            self._redirect(address, content, sender, hops, result)
        if outcome.vacation is not None:
            self._vacation(login, root, outcome.vacation, message, sender, hops, result)
        if outcome.notify and self.notifier is not None:
            self._notify(login, message)
            result.notified = True
        return result

    # the person's script

    def _active_script(self, root: Path) -> bytes | None:
        active = root / "dovecot.sieve"
        try:
            if not active.is_file() or active.stat().st_size > MAX_SCRIPT_BYTES:
                return None
            return active.read_bytes()
        except OSError as error:
            logger.warning("Script Sieve illisible (%s) : message gardé.", error)
            return None

    # storing

    def _folder_path(self, root: Path, folder: str) -> Path | None:
        """The Maildir of ``folder`` as pymap lays it out, or None when it does not exist."""
        if folder.upper() == INBOX:
            return root
        if not folder or "\x00" in folder or any(not p for p in folder.split(DELIMITER)):
            return None
        path = Path(DefaultLayout(str(root), mailbox.Maildir).get_path(folder, DELIMITER))
        if path.parent != root or not (path / "cur").is_dir():
            return None
        return path

    def _store(
        self, root: Path, folder: str, content: bytes, flags: frozenset[str], result: Delivered
    ) -> None:
        path = self._folder_path(root, folder)
        if path is None:
            logger.warning("Dossier %r absent pour %s : message gardé.", folder, root.name)
            folder, path = INBOX, root
        if folder.upper() == INBOX:
            folder = INBOX
        if folder in result.folders:
            return  # Sieve stores a message once per folder
        stored = mailbox.MaildirMessage(content)
        letters = "".join(sorted({MAILDIR_FLAGS[f] for f in flags if f in MAILDIR_FLAGS}))
        if letters:
            stored.set_subdir("cur")
            stored.set_flags(letters)
        else:
            stored.set_subdir("new")
        mailbox.Maildir(path, create=False).add(stored)
        result.folders.append(folder)

    # redirect and vacation: people of the académie only

    def _local(self, address: str) -> str | None:
        from demo.mail.imap import LOGIN_SHAPE

        try:
            login = self.directory(address)
        except Exception as error:  # the directory (database) is unreachable
            logger.warning("Annuaire inaccessible pour %s (%s).", address, error)
            return None
        return login if login and LOGIN_SHAPE.match(login) else None

    def _redirect(
        self, address: str, content: bytes, sender: str, hops: int, result: Delivered
    ) -> None:
        target = self._local(address)
        if target is None:
            logger.info(
                "Transfert vers %s non envoyé : la démonstration n'envoie rien dehors.", address
            )
            return
        if hops >= MAX_HOPS:
            logger.warning("Transfert vers %s abandonné : boucle de transferts.", address)
            return
        self.deliver(
            target, content, envelope_sender=sender, envelope_recipient=address, hops=hops + 1
        )
        result.redirected.append(address)

    def _vacation(
        self,
        login: str,
        root: Path,
        vacation: Vacation,
        message: Message,
        sender: str,
        hops: int,
        result: Delivered,
    ) -> None:
        reply_to = self._vacation_recipient(login, vacation, message, sender)
        if reply_to is None:
            return
        sender, own = reply_to
        if not self._first_reply(root, vacation, sender):
            return
        reply = self._reply(vacation, message, sender, own)
        result.replied_to = sender
        target = self._local(sender)
        if target is None:
            logger.info(
                "Réponse d'absence à %s non envoyée : la démonstration n'envoie rien dehors.",
                sender,
            )
            return
        if hops >= MAX_HOPS:
            return
        # Null sender: an automatic reply is never answered automatically (RFC 3834).
        self.deliver(target, reply.as_bytes(), envelope_recipient=sender, hops=hops + 1)

    def _vacation_recipient(
        self, login: str, vacation: Vacation, message: Message, sender: str
    ) -> tuple[str, str] | None:
        """(sender, the person's address the message came to), or None: no reply is due."""
        lowered = sender.lower()
        local = lowered.rpartition("@")[0]
        if (
            not sender
            or local in ("mailer-daemon", "postmaster")
            or local.startswith("owner-")
            or local.endswith("-request")
        ):
            return None
        auto = str(message.get("Auto-Submitted", "no")).strip().lower()
        precedence = str(message.get("Precedence", "")).strip().lower()
        if auto != "no" or precedence in BULK_PRECEDENCE:
            return None
        if any(message.get(header) is not None for header in LIST_HEADERS):
            return None
        own = {a.lower() for a in vacation.addresses}
        if vacation.from_address:
            own.add(email.utils.parseaddr(vacation.from_address)[1].lower())
        if lowered in own or self._local(sender) == login:
            return None  # never to oneself
        for address in _addresses(message, ["to", "cc", "bcc", "resent-to", "resent-cc"])[:50]:
            if address.lower() in own or self._local(address) == login:
                return sender, address
        return None  # the person is not a visible recipient (a list, a Bcc)

    def _first_reply(self, root: Path, vacation: Vacation, sender: str) -> bool:
        """Whether ``sender`` was not answered by this vacation within its ``:days``;
        remembers this reply."""
        path = root / VACATION_STATE
        key = f"{vacation.handle}|{sender.lower()}"
        now = self.clock()
        with _vacation_lock(path):
            try:
                state: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                state = {}
            last = state.get(key)
            if last is not None:
                try:
                    when = datetime.datetime.fromisoformat(last)
                except ValueError:
                    when = None
                if when is not None and now - when < datetime.timedelta(days=vacation.days):
                    return False
            state[key] = now.isoformat()
            state = {k: v for k, v in state.items() if _recent(v, now - VACATION_MEMORY)}
            if len(state) > VACATION_MAX_ENTRIES:
                state = dict(
                    sorted(state.items(), key=lambda item: item[1])[-VACATION_MAX_ENTRIES:]
                )
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(state), encoding="utf-8")
            temporary.replace(path)
        return True

    def _reply(self, vacation: Vacation, message: Message, sender: str, own: str) -> EmailMessage:
        reply = EmailMessage()
        reply["From"] = vacation.from_address or own
        reply["To"] = sender
        original_subject = str(message.get("Subject", ""))
        reply["Subject"] = vacation.subject or f"Auto: {original_subject}".strip()
        reply["Date"] = email.utils.format_datetime(self.clock().astimezone(ZONE))
        domain = own.rpartition("@")[2] or "demo-convergence"
        reply["Message-ID"] = email.utils.make_msgid(domain=domain)
        original_id = str(message.get("Message-ID", "")).strip()
        if original_id:
            reply["In-Reply-To"] = original_id
            references = str(message.get("References", "")).strip()
            reply["References"] = f"{references} {original_id}".strip()
        reply["Auto-Submitted"] = "auto-replied (vacation)"
        reply.set_content(vacation.reason)
        return reply

    # notification

    def _notify(self, login: str, message: Message) -> None:
        assert self.notifier is not None
        notification = Notification(
            login=login,
            sender=" ".join(str(message.get("From", "")).split())[:255],
            subject=" ".join(str(message.get("Subject", "")).split())[:255],
            message_id=str(message.get("Message-ID", "")).strip()[:255],
        )
        try:
            self.notifier(notification)
        except Exception as error:  # never fail the delivery for a notification
            logger.warning("Notification de %s non transmise (%s).", login, error)


def _recent(value: str, since: datetime.datetime) -> bool:
    try:
        return datetime.datetime.fromisoformat(value) >= since
    except ValueError:
        return False
