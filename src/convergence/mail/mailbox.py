"""What the webmail asks of the IMAP server, on a connection lent by ``connections.session``.

Reads fetch only what a page shows: a folder page fetches the envelopes of its 50 messages,
never the whole folder. The default order, newest arrival first, is read from message
sequence numbers (the server numbers messages in arrival order), so the first page of a
100,000-message folder costs what the first page of a 100-message one costs. Filters (unread,
flagged) and the "by date" order use the server's SORT (RFC 5256) when it offers it, and a
SEARCH in UID order otherwise (UIDs grow with arrival).
"""

from __future__ import annotations

import datetime
import email.header
import email.utils
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import imapclient
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from convergence.mail.connections import MailUnavailable, _Connection

INBOX = "INBOX"
# The most a message may weigh to be opened in the webmail (larger: downloaded whole).
MAX_MESSAGE_BYTES = 30 * 1024 * 1024

SPECIAL_USES = {
    "\\Sent": gettext_lazy("Envoyés"),
    "\\Drafts": gettext_lazy("Brouillons"),
    "\\Trash": gettext_lazy("Corbeille"),
    "\\Junk": gettext_lazy("Indésirables"),
    "\\Archive": gettext_lazy("Archives"),
}
# Folder names servers without SPECIAL-USE (RFC 6154) commonly use, per use.
USUAL_NAMES = {
    "\\Sent": ("sent", "sent items", "sent messages", "envoyés", "elements envoyes"),
    "\\Drafts": ("drafts", "brouillons"),
    "\\Trash": ("trash", "deleted items", "deleted messages", "corbeille"),
    "\\Junk": ("junk", "spam", "indésirables"),
    "\\Archive": ("archive", "archives"),
}
ORDER = ("INBOX", "\\Drafts", "\\Sent", "\\Archive", "\\Junk", "\\Trash")


class Filter:
    ALL = "all"
    UNREAD = "unread"
    FLAGGED = "flagged"
    CHOICES = (ALL, UNREAD, FLAGGED)


@dataclass(frozen=True)
class Folder:
    name: str  # the server's name (what URLs carry)
    label: str  # what the person reads
    special_use: str  # "\\Sent", …, "INBOX" or ""
    delimiter: str
    depth: int
    total: int
    unread: int
    selectable: bool = True

    @property
    def deletable(self) -> bool:
        return self.selectable and not self.special_use


@dataclass(frozen=True)
class Address:
    name: str
    address: str

    @property
    def shown(self) -> str:
        return self.name or self.address


@dataclass(frozen=True)
class Summary:
    uid: int
    subject: str
    sender: Address | None
    to: tuple[Address, ...]
    date: datetime.datetime | None
    size: int
    seen: bool
    flagged: bool
    answered: bool
    has_attachments: bool


@dataclass(frozen=True)
class Page:
    folder: str
    messages: list[Summary]
    total: int
    number: int  # 1-based
    pages: int
    filter: str = Filter.ALL

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


@dataclass(frozen=True)
class Fetched:
    uid: int
    raw: bytes
    seen: bool
    flagged: bool
    size: int
    too_large: bool = False
    flags: frozenset[str] = frozenset()  # all of them, keywords too ($Forwarded, $Phishing)


@dataclass
class SearchQuery:
    sender: str = ""
    recipient: str = ""
    subject: str = ""
    body: str = ""
    text: str = ""  # anywhere (headers and body)
    since: datetime.date | None = None
    before: datetime.date | None = None
    with_attachments: bool = False
    extra: list[Any] = field(default_factory=list)

    def criteria(self) -> list[Any]:
        criteria: list[Any] = []
        for key, value in (
            ("FROM", self.sender),
            ("TO", self.recipient),
            ("SUBJECT", self.subject),
            ("BODY", self.body),
            ("TEXT", self.text),
        ):
            if value:
                criteria += [key, _imap_text(value)]
        if self.since:
            criteria += ["SINCE", self.since]
        if self.before:
            criteria += ["BEFORE", self.before]
        if self.with_attachments:
            # A message with attachments is multipart/mixed (RFC 2046 §5.1.3).
            criteria += ["HEADER", "Content-Type", "multipart/mixed"]
        return criteria or ["ALL"]


def _imap_text(value: str) -> str:
    """A search string without line breaks or quotes that would end the IMAP argument."""
    return " ".join(value.replace('"', " ").replace("\\", " ").split())[:200]


# --- Folders -------------------------------------------------------------------------------


def _decode(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value) if value is not None else ""


def _special_use(flags: Iterable[Any], name: str) -> str:
    decoded = {_decode(flag) for flag in flags}
    if name.upper() == INBOX:
        return INBOX
    for use in SPECIAL_USES:
        if use in decoded:
            return use
    return ""


def _guess_special_uses(found: list[tuple[str, str]]) -> dict[str, str]:
    """Special uses by the usual names, for a server without SPECIAL-USE."""
    assigned = {use for _, use in found if use}
    guesses: dict[str, str] = {}
    for name, use in found:
        if use:
            continue
        leaf = name.lower()
        for special, names in USUAL_NAMES.items():
            if special not in assigned and leaf in names:
                guesses[name] = special
                assigned.add(special)
    return guesses


def _listed(connection: _Connection) -> list[tuple[str, str, str, bool]]:
    """Every folder as (name, special use, delimiter, selectable): one LIST, no counts."""
    found: list[tuple[str, str]] = []
    meta: dict[str, tuple[str, bool]] = {}
    for flags, delimiter, name in connection.client.list_folders():
        name = _decode(name)
        decoded_flags = {_decode(flag) for flag in flags}
        selectable = "\\Noselect" not in decoded_flags and "\\NonExistent" not in decoded_flags
        found.append((name, _special_use(flags, name)))
        meta[name] = (_decode(delimiter) or "/", selectable)
    guesses = _guess_special_uses(found)
    return [(name, use or guesses.get(name, ""), *meta[name]) for name, use in found]


def selectable_names(connection: _Connection) -> set[str]:
    """The names of the folders a message may be in (to check a target): one LIST."""
    return {name for name, _use, _delimiter, selectable in _listed(connection) if selectable}


def folders(connection: _Connection) -> list[Folder]:
    """Every folder with its unread and total counts, special folders first."""
    client = connection.client
    result: list[Folder] = []
    for name, use, delimiter, selectable in _listed(connection):
        total = unread = 0
        if selectable:
            status = client.folder_status(name, [b"MESSAGES", b"UNSEEN"])
            total = int(status.get(b"MESSAGES", 0))
            unread = int(status.get(b"UNSEEN", 0))
        label = name.rsplit(delimiter, 1)[-1] if delimiter else name
        if use == INBOX:
            label = _("Boîte de réception")
        elif use:
            label = str(SPECIAL_USES[use])
        result.append(
            Folder(
                name=name,
                label=label,
                special_use=use,
                delimiter=delimiter,
                depth=name.count(delimiter) if delimiter else 0,
                total=total,
                unread=unread,
                selectable=selectable,
            )
        )

    def rank(folder: Folder) -> tuple[int, str]:
        key = folder.special_use if folder.special_use else ""
        position = ORDER.index(key) if key in ORDER else len(ORDER)
        return (position, folder.name.lower())

    return sorted(result, key=rank)


def unread_in_inbox(connection: _Connection) -> int:
    status = connection.client.folder_status(INBOX, [b"UNSEEN"])
    return int(status.get(b"UNSEEN", 0))


def special_folder(connection: _Connection, use: str) -> str | None:
    """The name of the folder with special use ``use`` (``\\Trash``…), if there is one."""
    for name, special_use, _delimiter, _selectable in _listed(connection):
        if special_use == use:
            return name
    return None


def _select(
    connection: _Connection, folder: str, *, readonly: bool, count: bool = True
) -> dict[bytes, Any]:
    """Select ``folder`` unless this pooled connection already has it open (read-write
    serves reads too): Dovecot's SELECT of a 100,000-message folder costs tens of
    milliseconds, a NOOP and a STATUS well under one. The NOOP makes the session catch up with
    what arrived or left meanwhile, so message numbers and the count agree."""
    current = connection.selected
    if current is not None and current[0] == folder and (readonly or not current[1]):
        if not count:
            return {}  # by UID: what arrived or left meanwhile changes nothing
        client = connection.client
        client.noop()
        # imaplib keeps every untagged answer it saw; nothing here reads them.
        client._imap.untagged_responses.clear()
        status = client.folder_status(folder, [b"MESSAGES"])
        return {b"EXISTS": int(status.get(b"MESSAGES", 0))}
    answer: dict[bytes, Any] = connection.client.select_folder(folder, readonly=readonly)
    connection.selected = (folder, readonly)
    return answer


def create_folder(connection: _Connection, name: str) -> None:
    connection.client.create_folder(name)


def rename_folder(connection: _Connection, old: str, new: str) -> None:
    connection.client.rename_folder(old, new)
    connection.selected = None


def delete_folder(connection: _Connection, name: str) -> None:
    if connection.selected and connection.selected[0] == name:
        connection.client.unselect_folder() if connection.client.has_capability(
            "UNSELECT"
        ) else connection.client.close_folder()
        connection.selected = None
    connection.client.delete_folder(name)


# --- Listing -------------------------------------------------------------------------------

SUMMARY_ITEMS = [
    b"UID",
    b"FLAGS",
    b"INTERNALDATE",
    b"RFC822.SIZE",
    b"ENVELOPE",
    b"BODY.PEEK[HEADER.FIELDS (CONTENT-TYPE)]",
]


def _header_text(value: Any) -> str:
    raw = _decode(value)
    try:
        text = str(email.header.make_header(email.header.decode_header(raw)))
    except (ValueError, LookupError, UnicodeError):
        text = raw
    return " ".join(text.replace("\r", " ").replace("\n", " ").split())


def _address(item: Any) -> Address | None:
    if item is None:
        return None
    mailbox = _decode(item.mailbox)
    host = _decode(item.host)
    address = f"{mailbox}@{host}" if host else mailbox
    return Address(name=_header_text(item.name) if item.name else "", address=address)


def _summary(uid: int, data: dict[bytes, Any]) -> Summary:
    envelope = data.get(b"ENVELOPE")
    flags = {_decode(flag) for flag in data.get(b"FLAGS", ())}
    content_type = b""
    for key, value in data.items():
        if key.startswith(b"BODY[HEADER.FIELDS"):
            content_type = value or b""
    senders = [a for a in (envelope.from_ or ()) if a] if envelope else []
    recipients = [a for a in (envelope.to or ()) if a] if envelope else []
    date = envelope.date if envelope and envelope.date else data.get(b"INTERNALDATE")
    if isinstance(date, datetime.datetime) and date.tzinfo is None:
        date = date.replace(tzinfo=datetime.UTC)
    return Summary(
        uid=uid,
        subject=_header_text(envelope.subject) if envelope and envelope.subject else "",
        sender=_address(senders[0]) if senders else None,
        to=tuple(a for a in (_address(r) for r in recipients) if a is not None),
        date=date if isinstance(date, datetime.datetime) else None,
        size=int(data.get(b"RFC822.SIZE", 0)),
        seen="\\Seen" in flags,
        flagged="\\Flagged" in flags,
        answered="\\Answered" in flags,
        has_attachments=b"multipart/mixed" in content_type.lower(),
    )


def _fetch_summaries(connection: _Connection, uids: Sequence[int]) -> list[Summary]:
    if not uids:
        return []
    fetched = connection.client.fetch(list(uids), SUMMARY_ITEMS)
    return [_summary(uid, fetched[uid]) for uid in uids if uid in fetched]


def _pages(total: int, size: int) -> int:
    return max(1, (total + size - 1) // size)


def _search_criteria(view: str) -> list[Any]:
    if view == Filter.UNREAD:
        return ["UNSEEN"]
    if view == Filter.FLAGGED:
        return ["FLAGGED"]
    return ["ALL"]


def sorted_uids(connection: _Connection, criteria: list[Any]) -> list[int]:
    """UIDs matching ``criteria``, newest first: the server's SORT when it has it, else a
    SEARCH reversed (UIDs grow with arrival)."""
    client = connection.client
    if "SORT" in connection.capabilities:
        return [int(uid) for uid in client.sort(["REVERSE ARRIVAL"], criteria)]
    charset = "UTF-8" if any(isinstance(c, str) and not c.isascii() for c in criteria) else None
    return sorted((int(uid) for uid in client.search(criteria, charset=charset)), reverse=True)


def page(connection: _Connection, folder: str, *, number: int = 1, view: str = Filter.ALL) -> Page:
    """One page of ``folder``, newest first, fetching only that page's headers."""
    size = settings.MAIL_PAGE_SIZE
    selected = _select(connection, folder, readonly=True)
    exists = int(selected.get(b"EXISTS", 0))
    if view == Filter.ALL:
        pages = _pages(exists, size)
        number = min(max(1, number), pages)
        high = exists - (number - 1) * size
        low = max(1, high - size + 1)
        if high < 1:
            return Page(folder, [], exists, number, pages, view)
        client = connection.client
        client.use_uid = False
        try:
            by_sequence = client.fetch(list(range(low, high + 1)), SUMMARY_ITEMS)
        finally:
            client.use_uid = True
        rows = sorted(by_sequence.items(), key=lambda item: item[0], reverse=True)
        messages = [_summary(int(data[b"UID"]), data) for _, data in rows if b"UID" in data]
        return Page(folder, messages, exists, number, pages, view)
    uids = sorted_uids(connection, _search_criteria(view))
    return _paged(connection, folder, uids, number, view)


def _paged(connection: _Connection, folder: str, uids: list[int], number: int, view: str) -> Page:
    size = settings.MAIL_PAGE_SIZE
    pages = _pages(len(uids), size)
    number = min(max(1, number), pages)
    chosen = uids[(number - 1) * size : number * size]
    return Page(folder, _fetch_summaries(connection, chosen), len(uids), number, pages, view)


def search(connection: _Connection, folder: str, query: SearchQuery, *, number: int = 1) -> Page:
    """Messages of ``folder`` matching ``query`` on the server, newest first, paged."""
    _select(connection, folder, readonly=True)
    uids = sorted_uids(connection, query.criteria())
    return _paged(connection, folder, uids, number, Filter.ALL)


def thread_roots(connection: _Connection, folder: str) -> list[list[int]] | None:
    """Threads of ``folder`` (THREAD=REFERENCES, RFC 5256) as lists of UIDs, or ``None``
    when the server cannot thread."""
    if "THREAD=REFERENCES" not in connection.capabilities:
        return None
    _select(connection, folder, readonly=True)
    threads = connection.client.thread("REFERENCES", ["ALL"])

    def flatten(node: Any) -> list[int]:
        if isinstance(node, int):
            return [node]
        return [uid for child in node for uid in flatten(child)]

    return [flatten(thread) for thread in threads]


# --- One message ---------------------------------------------------------------------------


def fetch_message(connection: _Connection, folder: str, uid: int, *, mark_seen: bool) -> Fetched:
    """The whole message (BODY.PEEK: reading it does not mark it seen by itself)."""
    _select(connection, folder, readonly=not mark_seen, count=False)
    client = connection.client
    # One exchange: flags, size, and the message up to the limit (a larger one is not shown).
    wanted = [b"FLAGS", b"RFC822.SIZE", f"BODY.PEEK[]<0.{MAX_MESSAGE_BYTES + 1}>".encode()]
    fetched = client.fetch([uid], wanted)
    if uid not in fetched:
        raise LookupError(uid)
    data = fetched[uid]
    flags = {_decode(flag) for flag in data.get(b"FLAGS", ())}
    size = int(data.get(b"RFC822.SIZE", 0))
    if size > MAX_MESSAGE_BYTES:
        return Fetched(
            uid, b"", "\\Seen" in flags, "\\Flagged" in flags, size, True, frozenset(flags)
        )
    raw = data.get(b"BODY[]<0>", b"") or b""
    if mark_seen and "\\Seen" not in flags:
        client.add_flags([uid], [imapclient.SEEN], silent=True)
        flags.add("\\Seen")
    return Fetched(
        uid, bytes(raw), "\\Seen" in flags, "\\Flagged" in flags, size, False, frozenset(flags)
    )


def fetch_part(
    connection: _Connection, folder: str, uid: int, part_id: str
) -> tuple[bytes, bytes] | None:
    """One part of a message, alone: its MIME header and its (still encoded) body; ``None``
    when the message or the part is not there. A page's inline images cost their own size,
    never the whole message's."""
    _select(connection, folder, readonly=True, count=False)
    items = [f"BODY.PEEK[{part_id}.MIME]".encode(), f"BODY.PEEK[{part_id}]".encode()]
    fetched = connection.client.fetch([uid], items)
    data = fetched.get(uid)
    if not data:
        return None
    mime = data.get(f"BODY[{part_id}.MIME]".encode())
    body = data.get(f"BODY[{part_id}]".encode())
    if not isinstance(mime, bytes) or not isinstance(body, bytes):
        return None
    return mime, body


# --- Actions on one message or a selection --------------------------------------------------


class Action:
    READ = "read"
    UNREAD = "unread"
    FLAG = "flag"
    UNFLAG = "unflag"
    DELETE = "delete"
    ARCHIVE = "archive"
    MOVE = "move"
    CHOICES = (READ, UNREAD, FLAG, UNFLAG, DELETE, ARCHIVE, MOVE)


def _move(connection: _Connection, uids: list[int], target: str) -> None:
    client = connection.client
    if "MOVE" in connection.capabilities:
        client.move(uids, target)
        return
    client.copy(uids, target)
    client.add_flags(uids, [imapclient.DELETED], silent=True)
    if "UIDPLUS" in connection.capabilities:
        client.uid_expunge(uids)
    else:
        client.expunge()


def act(
    connection: _Connection, folder: str, uids: list[int], action: str, *, target: str = ""
) -> str:
    """Apply ``action`` to ``uids`` of ``folder``; the French sentence saying what was done."""
    if not uids:
        return _("Aucun message sélectionné.")
    _select(connection, folder, readonly=False, count=False)
    client = connection.client
    count = len(uids)
    if action == Action.READ:
        client.add_flags(uids, [imapclient.SEEN], silent=True)
        return _("Marqué comme lu.") if count == 1 else _("Marqués comme lus.")
    if action == Action.UNREAD:
        client.remove_flags(uids, [imapclient.SEEN], silent=True)
        return _("Marqué comme non lu.") if count == 1 else _("Marqués comme non lus.")
    if action == Action.FLAG:
        client.add_flags(uids, [imapclient.FLAGGED], silent=True)
        return _("Suivi activé.")
    if action == Action.UNFLAG:
        client.remove_flags(uids, [imapclient.FLAGGED], silent=True)
        return _("Suivi retiré.")
    if action == Action.DELETE:
        trash = special_folder(connection, "\\Trash")
        _select(connection, folder, readonly=False, count=False)
        if trash and trash != folder:
            _move(connection, uids, trash)
            return _("Déplacé dans la corbeille.")
        client.add_flags(uids, [imapclient.DELETED], silent=True)
        if "UIDPLUS" in connection.capabilities:
            client.uid_expunge(uids)
        else:
            client.expunge()
        return _("Supprimé définitivement.")
    if action == Action.ARCHIVE:
        archive = special_folder(connection, "\\Archive")
        if not archive:
            raise MailUnavailable("no archive folder")
        _select(connection, folder, readonly=False, count=False)
        if archive != folder:
            _move(connection, uids, archive)
        return _("Archivé.")
    if action == Action.MOVE:
        if not target or target == folder:
            return _("Choisissez un autre dossier.")
        _move(connection, uids, target)
        return _("Déplacé.")
    raise ValueError(action)


def empty_trash(connection: _Connection) -> int:
    """Delete for good every message of the Trash; how many."""
    trash = special_folder(connection, "\\Trash")
    if not trash:
        return 0
    selected = _select(connection, trash, readonly=False)
    count = int(selected.get(b"EXISTS", 0))
    if count:
        uids = connection.client.search(["ALL"])
        connection.client.add_flags(uids, [imapclient.DELETED], silent=True)
        connection.client.expunge()
    return count


def parse_date(value: str) -> datetime.datetime | None:
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


# --- Writing: drafts, Sent, answered ---------------------------------------------------------

DEFAULT_NAMES = {"\\Sent": "Sent", "\\Drafts": "Drafts", "\\Trash": "Trash", "\\Junk": "Junk"}


def ensure_special_folder(connection: _Connection, use: str) -> str:
    """The folder with special use ``use``, created under its usual name if missing."""
    found = special_folder(connection, use)
    if found:
        return found
    name = DEFAULT_NAMES[use]
    connection.client.create_folder(name)
    return name


def _appended_uid(answer: Any) -> int | None:
    """The UID of an APPEND, from the server's APPENDUID (RFC 4315), if it sent one."""
    text = _decode(answer)
    marker = "APPENDUID "
    if marker not in text:
        return None
    parts = text.split(marker, 1)[1].split("]", 1)[0].split()
    uid = parts[1] if len(parts) == 2 else ""
    return int(uid) if uid.isascii() and uid.isdigit() and len(uid) <= 10 else None


def append(connection: _Connection, folder: str, raw: bytes, flags: Sequence[bytes]) -> int | None:
    """Store ``raw`` in ``folder`` with ``flags``; its UID when the server says it."""
    connection.selected = None
    return _appended_uid(connection.client.append(folder, raw, flags=list(flags)))


def remove(connection: _Connection, folder: str, uid: int) -> None:
    """Delete one message for good (a draft replaced by its next version, or sent)."""
    _select(connection, folder, readonly=False, count=False)
    client = connection.client
    client.add_flags([uid], [imapclient.DELETED], silent=True)
    if "UIDPLUS" in connection.capabilities:
        client.uid_expunge([uid])
    else:
        client.expunge()


def mark(connection: _Connection, folder: str, uid: int, flag: bytes) -> None:
    """Add ``flag`` (\\Answered, $Forwarded) to one message; gone messages are ignored."""
    _select(connection, folder, readonly=False, count=False)
    connection.client.add_flags([uid], [flag], silent=True)


# --- Conversations (THREAD=REFERENCES) ----------------------------------------------------------


@dataclass(frozen=True)
class Conversation:
    latest: Summary
    count: int


@dataclass(frozen=True)
class ConversationPage:
    folder: str
    conversations: list[Conversation]
    total: int
    number: int
    pages: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def can_thread(connection: _Connection) -> bool:
    return "THREAD=REFERENCES" in connection.capabilities


def conversations(
    connection: _Connection, folder: str, *, number: int = 1
) -> ConversationPage | None:
    """``folder`` grouped in conversations by the server (RFC 5256 THREAD=REFERENCES), the
    most recent first, each shown by its latest message; ``None`` when the server cannot."""
    threads = thread_roots(connection, folder)
    if threads is None:
        return None
    threads = [thread for thread in threads if thread]
    threads.sort(key=max, reverse=True)
    size = settings.MAIL_PAGE_SIZE
    pages = _pages(len(threads), size)
    number = min(max(1, number), pages)
    chosen = threads[(number - 1) * size : number * size]
    latest = _fetch_summaries(connection, [max(thread) for thread in chosen])
    by_uid = {summary.uid: summary for summary in latest}
    items = [
        Conversation(latest=by_uid[max(thread)], count=len(thread))
        for thread in chosen
        if max(thread) in by_uid
    ]
    return ConversationPage(folder, items, len(threads), number, pages)
