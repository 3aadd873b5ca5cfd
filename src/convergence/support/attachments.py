"""Files joined to tickets: where they are kept, what is accepted, and the checks on a file.

The files live in ``settings.SUPPORT_ATTACHMENTS_DIR``, outside MEDIA_ROOT (which the web
server hands to anyone), and leave it only through the ticket's download view. What a file
is comes from its first bytes, never from its name or the browser's word: the name's
extension must announce the same type as the content, so a page or a script renamed
``.png`` is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from convergence.core.uploads import PrivateStorage, clean_name

PNG = "image/png"
JPEG = "image/jpeg"
PDF = "application/pdf"
TEXT = "text/plain"

# The extensions accepted, each with the one type its content must have.
EXTENSIONS = {".png": PNG, ".jpg": JPEG, ".jpeg": JPEG, ".pdf": PDF, ".txt": TEXT, ".log": TEXT}
# For the file picker's ``accept``: a hint to the browser, checked again here.
ACCEPT = ",".join([*EXTENSIONS, PNG, JPEG, PDF, TEXT])

# Control characters that have no business in a text file (tab, newlines, form feed and the
# old end-of-file mark are fine), found by one compiled search: a Python loop over 5 Mo of
# bytes took 0.4 s, before any limit applies.
_TEXT_CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f]")


_STORAGE = PrivateStorage("SUPPORT_ATTACHMENTS_DIR")


def attachment_storage() -> PrivateStorage:
    """The storage of ``TicketAttachment.file`` (a callable, so migrations name it)."""
    return _STORAGE


def max_bytes() -> int:
    return int(settings.SUPPORT_ATTACHMENT_MAX_MB) * 1024 * 1024


def max_files() -> int:
    return int(settings.SUPPORT_ATTACHMENT_MAX_FILES)


def limits_text() -> str:
    """The limits as the forms state them."""
    return _(
        "Facultatif. Au plus %(count)s fichiers de %(size)s Mo chacun : images PNG ou JPEG, "
        "PDF, texte (.txt, .log)."
    ) % {"count": max_files(), "size": settings.SUPPORT_ATTACHMENT_MAX_MB}


def _looks_like_text(content: bytes) -> str | None:
    """``text/plain`` with its charset if ``content`` is text without markup, else None."""
    # A text file opening on "<" may be sniffed as a page or an image (HTML, SVG, XML) by
    # some reader: refused, whatever headers it is served with.
    if content.lstrip(b"\xef\xbb\xbf \t\r\n\x0c").startswith(b"<"):
        return None
    if _TEXT_CONTROLS.search(content):
        return None
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        # A text file saved by an older Windows editor.
        return f"{TEXT}; charset=windows-1252"
    return f"{TEXT}; charset=utf-8"


def sniff(content: bytes) -> str | None:
    """The type ``content`` is, from its first bytes; None if none of those accepted."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"%PDF-"):
        return PDF
    return _looks_like_text(content)


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed the checks, with what is stored about it."""

    upload: UploadedFile[bytes]
    name: str
    content_type: str
    size: int


class RefusedFile(ValueError):
    """An upload refused, with the French message to show."""


def check(upload: UploadedFile[bytes]) -> CheckedFile:
    """Accept ``upload`` or raise :class:`RefusedFile`: within the size limit, not empty, of
    an accepted extension whose type its content really has."""
    name = clean_name(upload.name or "")
    size = upload.size or 0
    if size > max_bytes():
        raise RefusedFile(
            _(
                "Le fichier « %(name)s » dépasse %(size)s Mo : réduisez-le (une capture "
                "d'écran suffit souvent) ou joignez-en un autre."
            )
            % {"name": name, "size": settings.SUPPORT_ATTACHMENT_MAX_MB}
        )
    if size == 0:
        raise RefusedFile(_("Le fichier « %(name)s » est vide.") % {"name": name})
    announced = EXTENSIONS.get(Path(name).suffix.lower())
    upload.seek(0)
    content = upload.read()
    upload.seek(0)
    found = sniff(content) if announced else None
    if announced is None or found is None or found.split(";")[0] != announced:
        raise RefusedFile(
            _(
                "Ce type de fichier n'est pas accepté : « %(name)s ». Joignez une image PNG "
                "ou JPEG, un PDF ou un fichier texte (.txt, .log)."
            )
            % {"name": name}
        )
    return CheckedFile(upload=upload, name=name, content_type=found, size=size)
