"""Files joined to announcements: where they are kept, what is accepted, the checks.

The files live in ``settings.ANNOUNCEMENT_ATTACHMENTS_DIR``, outside MEDIA_ROOT (which the
web server hands to anyone), and leave it only through the announcement's download view, to
its recipients and managers. What a file is comes from its first bytes (and, for office
documents, from the parts the archive holds), never from its name or the browser's word: the
name's extension must announce the type the content has, so a page or a program renamed
``.pdf`` is refused.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from convergence.core.uploads import PrivateStorage, clean_name

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The extensions accepted, each with the one type its content must have.
EXTENSIONS = {
    ".pdf": PDF,
    ".png": PNG,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".gif": GIF,
    ".webp": WEBP,
    ".odt": ODT,
    ".ods": ODS,
    ".docx": DOCX,
    ".xlsx": XLSX,
}
# For the file picker's ``accept``: a hint to the browser, checked again here.
ACCEPT = ",".join(EXTENSIONS)
# The part an Office Open XML document of each kind must hold.
_OOXML_MAIN_PART = {DOCX: "word/document.xml", XLSX: "xl/workbook.xml"}


_STORAGE = PrivateStorage("ANNOUNCEMENT_ATTACHMENTS_DIR")


def announcement_storage() -> PrivateStorage:
    """The storage of ``AnnouncementAttachment.file`` (a callable, so migrations name it)."""
    return _STORAGE


def max_bytes() -> int:
    return int(settings.ANNOUNCEMENT_ATTACHMENT_MAX_MB) * 1024 * 1024


def max_files() -> int:
    return int(settings.ANNOUNCEMENT_ATTACHMENT_MAX_FILES)


def limits_text() -> str:
    """The limits as the form states them."""
    return _(
        "Facultatif. Au plus %(count)s fichiers de %(size)s Mo chacun : PDF, images (PNG, JPEG, "
        "GIF, WebP), documents ODT ou DOCX, tableurs ODS ou XLSX."
    ) % {"count": max_files(), "size": settings.ANNOUNCEMENT_ATTACHMENT_MAX_MB}


def _office_type(stream: IO[bytes]) -> str | None:
    """The office document a ZIP archive is, from the parts it holds; None otherwise."""
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                declared = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                return declared if declared in (ODT, ODS) else None
            if "[Content_Types].xml" in names:
                for kind, part in _OOXML_MAIN_PART.items():
                    if part in names:
                        return kind
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, ValueError):
        return None
    return None


def sniff(head: bytes, stream: IO[bytes] | None = None) -> str | None:
    """The type a file is, from its first bytes ``head`` (and the archive in ``stream`` for
    office documents); None if none of those accepted."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"PK\x03\x04") and stream is not None:
        return _office_type(stream)
    return None


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
            _("Le fichier « %(name)s » dépasse %(size)s Mo.")
            % {"name": name, "size": settings.ANNOUNCEMENT_ATTACHMENT_MAX_MB}
        )
    if size == 0:
        raise RefusedFile(_("Le fichier « %(name)s » est vide.") % {"name": name})
    announced = EXTENSIONS.get(Path(name).suffix.lower())
    found = None
    if announced is not None:
        upload.seek(0)
        head = upload.read(16)
        upload.seek(0)
        found = sniff(head, upload.file)
        upload.seek(0)
    if announced is None or found != announced:
        raise RefusedFile(
            _(
                "Ce type de fichier n'est pas accepté : « %(name)s ». Joignez un PDF, une image "
                "(PNG, JPEG, GIF, WebP), un document ODT ou DOCX, un tableur ODS ou XLSX."
            )
            % {"name": name}
        )
    return CheckedFile(upload=upload, name=name, content_type=found, size=size)
