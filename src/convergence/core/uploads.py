"""Files people send the portal (support's attachments, announcements' attachments): a
private storage per kind, outside ``MEDIA_ROOT`` (served to anyone) and without a URL, so
they leave only through a view that checks who asks; and the sender's file name made safe
to keep and show. What each kind accepts (types, sizes) stays with its app."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.functional import cached_property

NAME_MAX = 120


class PrivateStorage(FileSystemStorage):
    """A file system storage rooted at the folder the setting ``setting`` names, read when
    first used and again when the setting changes (tests point it at a temporary folder);
    files readable by the portal's user only, and no URL."""

    def __init__(self, setting: str) -> None:
        self.setting = setting
        super().__init__(file_permissions_mode=0o600, directory_permissions_mode=0o700)

    @cached_property
    def base_location(self) -> str:
        return str(getattr(settings, self.setting))

    def _clear_cached_properties(self, setting: str, **kwargs: Any) -> None:
        if setting == self.setting:
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def url(self, name: str | None) -> str:
        raise ValueError(f"Files under {self.setting} have no URL: they go through a view.")


def clean_name(name: str) -> str:
    """The file's own name without any folder, control or quoting character, shortened
    (its extension kept) to fit ``NAME_MAX``; never empty."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if unicodedata.category(char).startswith("C") or char in '"<>|*?:;' else char
        for char in name
    )
    name = " ".join(name.split()).strip(". ")
    stem, extension = Path(name).stem, Path(name).suffix
    if len(name) > NAME_MAX:
        extension = extension[:10]
        name = stem[: NAME_MAX - len(extension)].rstrip(". ") + extension
    return name or "fichier"
