"""The project's translation catalogs (``LOCALE_PATHS``): reading a ``.po`` file and writing
its ``.mo`` in pure Python.

The portal's source strings are French, so its catalog holds only what gettext cannot do
without one: French plural forms (0 is singular: « 0 session ouverte »), and French words for
third-party strings (Django's admin, django-oauth-toolkit, django-tasks, allauth). The ``.mo``
is committed beside its ``.po``: GNU gettext (``msgfmt``, which Django's ``compilemessages``
needs) is not on every machine, and a fresh clone, CI and the test suite must read the same
catalog. ``manage.py compile_translations`` rewrites it; ``tests/core/test_catalogs.py``
fails when the two differ.
"""

from __future__ import annotations

import ast
import struct
from dataclasses import dataclass, field
from pathlib import Path

MO_MAGIC = 0x950412DE
# gettext's separators: between a context and its msgid, between plural forms.
CONTEXT_SEPARATOR = "\x04"
PLURAL_SEPARATOR = "\x00"


@dataclass
class Message:
    """One entry of a ``.po`` file."""

    msgid: str
    msgstr: list[str] = field(default_factory=list)
    msgid_plural: str | None = None
    msgctxt: str | None = None
    fuzzy: bool = False

    @property
    def key(self) -> str:
        """The entry's key in the ``.mo``: context, msgid and plural msgid joined."""
        key = self.msgid
        if self.msgid_plural is not None:
            key += PLURAL_SEPARATOR + self.msgid_plural
        if self.msgctxt is not None:
            key = self.msgctxt + CONTEXT_SEPARATOR + key
        return key

    @property
    def value(self) -> str:
        return PLURAL_SEPARATOR.join(self.msgstr)


class CatalogError(ValueError):
    """A ``.po`` file that cannot be read; the message names the line."""


def _literal(text: str, path: Path, number: int) -> str:
    """A quoted PO string (C escapes, which Python's string literals share)."""
    text = text.strip()
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        raise CatalogError(f"{path}:{number}: chaîne entre guillemets attendue.")
    value = ast.literal_eval(text)
    if not isinstance(value, str):  # pragma: no cover - a quoted literal is a str
        raise CatalogError(f"{path}:{number}: chaîne attendue.")
    return value


def read_po(path: Path) -> list[Message]:
    """The entries of ``path``, header (msgid "") included, in file order."""
    messages: list[Message] = []
    current: Message | None = None
    # The field that continuation lines ("...") extend: ("msgid"|"msgid_plural"|"msgctxt",
    # None) or ("msgstr", index).
    target: tuple[str, int | None] | None = None
    fuzzy = False

    def finish() -> None:
        nonlocal current, target, fuzzy
        if current is not None:
            messages.append(current)
        current, target, fuzzy = None, None, False

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#"):
            if current is not None and target is not None and target[0] == "msgstr":
                finish()
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if current is None or target is None:
                raise CatalogError(f"{path}:{number}: suite de chaîne sans mot-clé.")
            name, index = target
            text = _literal(line, path, number)
            if name == "msgstr":
                assert index is not None
                current.msgstr[index] += text
            else:
                setattr(current, name, getattr(current, name) + text)
            continue
        if keyword in {"msgctxt", "msgid"}:
            # A new entry starts once the previous one has its translation.
            if current is not None and current.msgstr:
                finish()
            if current is None:
                current = Message(msgid="", fuzzy=fuzzy)
        if current is None:
            raise CatalogError(f"{path}:{number}: « {keyword} » avant « msgid ».")
        if keyword in {"msgctxt", "msgid", "msgid_plural"}:
            setattr(current, keyword, _literal(rest, path, number))
            target = (keyword, None)
        elif keyword == "msgstr":
            current.msgstr = [_literal(rest, path, number)]
            target = ("msgstr", 0)
        elif keyword.startswith("msgstr[") and keyword.endswith("]"):
            index = int(keyword[len("msgstr[") : -1])
            if index != len(current.msgstr):
                raise CatalogError(f"{path}:{number}: formes plurielles dans le désordre.")
            current.msgstr.append(_literal(rest, path, number))
            target = ("msgstr", index)
        else:
            raise CatalogError(f"{path}:{number}: mot-clé inconnu « {keyword} ».")
    finish()
    return messages


def mo_bytes(messages: list[Message]) -> bytes:
    """The ``.mo`` file of ``messages``: GNU's format, keys sorted, no hash table; fuzzy
    entries (but the header) and untranslated ones left out, as ``msgfmt`` does."""
    kept = {
        message.key: message.value
        for message in messages
        if (message.msgid == "" or not message.fuzzy) and all(message.msgstr)
    }
    keys = sorted(kept, key=lambda key: key.encode("utf-8"))
    ids = [key.encode("utf-8") for key in keys]
    strs = [kept[key].encode("utf-8") for key in keys]
    count = len(keys)
    originals_offset = 7 * 4
    translations_offset = originals_offset + count * 8
    data_offset = translations_offset + count * 8
    tables = b""
    data = b""
    for chunk in ids:
        tables += struct.pack("<2I", len(chunk), data_offset + len(data))
        data += chunk + b"\0"
    for chunk in strs:
        tables += struct.pack("<2I", len(chunk), data_offset + len(data))
        data += chunk + b"\0"
    header = struct.pack(
        "<7I", MO_MAGIC, 0, count, originals_offset, translations_offset, 0, data_offset
    )
    return header + tables + data


def quote(text: str) -> str:
    """``text`` as a quoted PO string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'


def plural_entry(singular: str, plural: str) -> str:
    """The entry that gives a French message its French plural forms: itself."""
    return (
        f"msgid {quote(singular)}\nmsgid_plural {quote(plural)}\n"
        f"msgstr[0] {quote(singular)}\nmsgstr[1] {quote(plural)}\n"
    )


def po_files(locale_paths: list[Path]) -> list[Path]:
    """Every ``.po`` file under the given locale folders."""
    return sorted(path for folder in locale_paths for path in folder.glob("*/LC_MESSAGES/*.po"))


def compile_po(path: Path) -> Path:
    """Write ``path``'s ``.mo`` beside it; return the ``.mo``'s path."""
    target = path.with_suffix(".mo")
    target.write_bytes(mo_bytes(read_po(path)))
    return target
