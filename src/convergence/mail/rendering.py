"""What the reading page shows of a message, from its raw RFC 5322 bytes, without IMAP.

Parts are numbered as IMAP numbers body sections (RFC 3501 §6.4.5): a single-part message's
body is "1"; the children of a multipart are "1", "2"…, a nested multipart's "2.1", "2.2"…;
an attached message (message/rfc822) is one attachment and is not opened here. Nothing in
this module raises on malformed input: bad charsets, broken base64, missing headers and
8-bit garbage degrade to replacement characters and placeholders.
"""

from __future__ import annotations

import contextlib
import datetime
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from urllib.parse import quote

from django.utils.translation import gettext as _

from convergence.mail.sanitize import clean_html, html_to_text

FILENAME_MAX_LENGTH = 120
FALLBACK_FILENAME = "piece-jointe"
OCTET_STREAM = "application/octet-stream"
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
# Types a browser shows without running anything in the portal's origin; every other type,
# HTML, SVG, XML and scripts among them, is served as a download of unknown type.
_SERVED_AS_IS = frozenset(
    {
        "application/pdf", "application/zip", "application/msword", "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint", "audio/mpeg", "audio/ogg", "image/avif", "image/bmp",
        "image/gif", "image/jpeg", "image/png", "image/webp", "text/calendar", "text/csv",
        "text/plain", "video/mp4", "video/webm",
    }
)  # fmt: skip
_SERVED_AS_IS_PREFIXES = (
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MSG_ID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class Address:
    """One mailbox of a header: the name shown and the address."""

    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass(frozen=True)
class Attachment:
    """A part listed under the message, downloadable by its IMAP section number."""

    part_id: str
    filename: str
    content_type: str
    size: int
    inline: bool
    content_id: str | None


@dataclass(frozen=True)
class Part:
    """One leaf part's decoded bytes, for a download or an inline image."""

    part_id: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class RenderedMessage:
    """Everything the reading page shows of one message; ``html`` is already sanitised."""

    subject: str
    sender: Address | None
    to: list[Address]
    cc: list[Address]
    date: datetime.datetime | None
    message_id: str
    in_reply_to: str
    references: list[str]
    html: str | None
    text: str
    blocked_remote: int
    attachments: list[Attachment] = field(default_factory=list)


def parse_message(raw: bytes) -> EmailMessage:
    """The message tree of ``raw``; the parser records defects rather than raising."""
    parser = BytesParser(policy=policy.default)
    try:
        message = parser.parsebytes(raw)
    except RecursionError:  # parts nested too deep for the parser: the body stays text
        message = parser.parsebytes(raw, headersonly=True)
    assert isinstance(message, EmailMessage)
    return message


def render_message(
    raw: bytes, *, allow_remote: bool, part_url: Callable[[str], str]
) -> RenderedMessage:
    """Return what the reading page shows of the message ``raw``.

    ``part_url(part_id)`` gives the portal's URL of a part; inline images (``cid:``) point there.
    """
    message = parse_message(raw)
    leaves = list(_leaves(message))
    html_part = _body_part(message, ("html",))
    text_part = _body_part(message, ("plain",))
    if html_part is None and text_part is None and _is_unparsed_text(message):
        text_part = message

    by_content_id: dict[str, str] = {}
    for part_id, part in leaves:
        content_id = _content_id(part)
        if content_id:
            by_content_id.setdefault(content_id, part_id)

    def cid_url(content_id: str) -> str | None:
        part_id = by_content_id.get(content_id.strip().strip("<>"))
        return part_url(part_id) if part_id is not None else None

    html: str | None = None
    blocked = 0
    if html_part is not None:
        cleaned = clean_html(_text_content(html_part), allow_remote=allow_remote, cid_url=cid_url)
        html, blocked = cleaned.html, cleaned.blocked_remote

    text = _text_content(text_part) if text_part is not None else ""
    if not text.strip() and html is not None:
        text = html_to_text(html)
    if not text.strip():
        text = _("(message vide)")

    bodies = {id(p) for p in (html_part, text_part) if p is not None}
    attachments = [_attachment(part_id, part) for part_id, part in leaves if id(part) not in bodies]
    return RenderedMessage(
        subject=_header_text(message, "Subject"),
        sender=next(iter(_addresses(message, "From")), None),
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        date=_date(message),
        message_id=_single_message_id(message, "Message-ID"),
        in_reply_to=_single_message_id(message, "In-Reply-To"),
        references=_MSG_ID.findall(_header_text(message, "References")),
        html=html,
        text=text,
        blocked_remote=blocked,
        attachments=attachments,
    )


def extract_part(raw: bytes, part_id: str) -> Part | None:
    """The leaf part numbered ``part_id`` of the message ``raw``, or None if there is none."""
    message = parse_message(raw)
    for candidate_id, part in _leaves(message):
        if candidate_id == part_id:
            return Part(
                part_id=part_id,
                filename=_filename(part),
                content_type=_content_type(part),
                data=_payload(part),
            )
    return None


def part_from_fetch(part_id: str, mime_headers: bytes, body: bytes) -> Part | None:
    """One leaf part fetched alone from the server (``BODY[<id>.MIME]`` and ``BODY[<id>]``),
    decoded like :func:`extract_part`; ``None`` for a container (multipart) or nothing."""
    if not mime_headers.strip():
        return None
    part = parse_message(mime_headers.rstrip(b"\r\n") + b"\r\n\r\n" + body)
    if part.is_multipart() or part.get_content_maintype() == "multipart":
        return None
    return Part(
        part_id=part_id,
        filename=_filename(part),
        content_type=_content_type(part),
        data=_payload(part),
    )


def safe_download_headers(part: Part) -> dict[str, str]:
    """Response headers that make a browser download ``part``, never render it in our origin."""
    content_type = part.content_type
    if content_type not in _SERVED_AS_IS and not content_type.startswith(_SERVED_AS_IS_PREFIXES):
        content_type = OCTET_STREAM
    filename = safe_filename(part.filename)
    ascii_name = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\%' else "_" for c in filename
    )
    return {
        "Content-Type": content_type,
        "Content-Disposition": (
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
    }


def safe_filename(name: str | None) -> str:
    """``name`` without directories or control characters, at most 120 characters."""
    if not name:
        return FALLBACK_FILENAME
    name = unicodedata.normalize("NFC", _CONTROL.sub("", name))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = name.strip().lstrip(".").strip()
    if len(name) > FILENAME_MAX_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) <= 10:
            name = stem[: FILENAME_MAX_LENGTH - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:FILENAME_MAX_LENGTH]
    return name or FALLBACK_FILENAME


def _leaves(message: Message, prefix: str = "") -> Iterator[tuple[str, Message]]:
    """Every leaf part with its IMAP section number; attached messages are leaves."""
    if not message.is_multipart() or message.get_content_maintype() == "message":
        yield (prefix or "1"), message
        return
    payload = message.get_payload()
    if not isinstance(payload, list):
        return
    for index, child in enumerate(payload, start=1):
        if isinstance(child, Message):
            yield from _leaves(child, f"{prefix}.{index}" if prefix else str(index))


def _body_part(message: EmailMessage, preference: tuple[str, ...]) -> Message | None:
    try:
        return message.get_body(preferencelist=preference)
    except Exception:  # a malformed tree has no body to show
        return None


def _is_unparsed_text(message: Message) -> bool:
    """A multipart without a boundary, or a text the parser did not offer as a body."""
    return (
        not message.is_multipart()
        and _disposition(message) != "attachment"
        and _content_type(message).startswith(("multipart/", "text/"))
    )


def _disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:  # a malformed header counts as none
        return None


def _content_type(part: Message) -> str:
    try:
        value = part.get_content_type().lower()
    except Exception:  # a malformed header counts as unknown
        return OCTET_STREAM
    return value if _CONTENT_TYPE.match(value) else OCTET_STREAM


def _content_id(part: Message) -> str | None:
    value = _clean(_header_text(part, "Content-ID")).strip().strip("<>").strip()
    return value or None


def _attachment(part_id: str, part: Message) -> Attachment:
    content_id = _content_id(part)
    disposition = _disposition(part)
    return Attachment(
        part_id=part_id,
        filename=_filename(part),
        content_type=_content_type(part),
        size=len(_payload(part)),
        inline=disposition == "inline" or (disposition is None and content_id is not None),
        content_id=content_id,
    )


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or part.get_param("name")
    except Exception:  # a malformed parameter counts as no name
        name = None
    if isinstance(name, tuple):  # an RFC 2231 value the parser could not collapse
        name = name[2]
    if isinstance(name, str) and "=?" in name:
        with contextlib.suppress(Exception):  # keep the encoded text rather than nothing
            name = str(make_header(decode_header(name)))
    if not name and _content_type(part) == "message/rfc822":
        name = f"{_header_text(_attached_message(part), 'Subject') or 'message'}.eml"
    return safe_filename(name if isinstance(name, str) else None)


def _attached_message(part: Message) -> Message:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    return part


def _payload(part: Message) -> bytes:
    """The part's bytes decoded from their transfer encoding, as far as they decode."""
    try:
        if part.get_content_maintype() == "message" or part.is_multipart():
            return part.as_bytes(policy=policy.compat32)
        data = part.get_payload(decode=True)
    except Exception:  # undecodable content is shown as empty
        return b""
    return data if isinstance(data, bytes) else b""


def _text_content(part: Message) -> str:
    data = _payload(part)
    try:
        charset = part.get_content_charset() or "utf-8"
    except Exception:  # a malformed parameter counts as no charset
        charset = "utf-8"
    try:
        text = data.decode(charset, errors="replace")
    except LookupError:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _clean(value: str) -> str:
    """A header value on one line, without control characters."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _raw_header(message: Message, name: str) -> str | None:
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _header_text(message: Message, name: str) -> str:
    """The header ``name`` decoded (RFC 2047) on one line, or "" if missing or unreadable."""
    try:
        value = message.get(name)
        return _clean(str(value)) if value is not None else ""
    except Exception:  # fall back on decoding the raw text
        raw = _raw_header(message, name)
    if raw is None:
        return ""
    try:
        return _clean(str(make_header(decode_header(raw))))
    except Exception:  # the raw text is all there is
        return _clean(raw)


def _addresses(message: Message, name: str) -> list[Address]:
    try:
        header = message.get(name)
        if header is None:
            return []
        parsed: tuple[HeaderAddress, ...] = getattr(header, "addresses", ())
        return [
            Address(name=_clean(a.display_name), email=_clean(a.addr_spec))
            for a in parsed
            if a.addr_spec and a.addr_spec != "<>"
        ]
    except Exception:  # fall back on the lenient compat parser
        return [
            Address(name=_clean(display), email=_clean(email))
            for display, email in getaddresses([_header_text(message, name)])
            if email
        ]


def _date(message: Message) -> datetime.datetime | None:
    text = _header_text(message, "Date")
    if not text:
        return None
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if value.tzinfo is None:  # "-0000": a time in UTC whose origin is unknown (RFC 5322)
        value = value.replace(tzinfo=datetime.UTC)
    return value


def _single_message_id(message: Message, name: str) -> str:
    text = _header_text(message, name)
    found = _MSG_ID.search(text)
    return found.group(0) if found else text
