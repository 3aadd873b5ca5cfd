"""Named sieve scripts for the demo's ManageSieve, laid out as Dovecot's Pigeonhole does.

pymap's maildir backend keeps one unnamed script: a PUTSCRIPT of any other name is silently
dropped. The webmail manages several (rules, vacation), as with Dovecot in production, so each
person's scripts live in ``<base>/.sieve/<login>/<name>.sieve`` and the active one is the symlink
``<maildir>/dovecot.sieve``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, unquote

from pymap.filter import PluginFilterSet

SUFFIX = ".sieve"


def scripts_dir(maildir: Path) -> Path:
    """Where the scripts of the person whose maildir is ``maildir`` are kept."""
    return maildir.parent / ".sieve" / maildir.name


class NamedFilterSet(PluginFilterSet[bytes]):
    """Every script of one person, any of them active (or none)."""

    def __init__(self, user_dir: str) -> None:
        super().__init__("sieve", bytes)
        # Beside the maildir, not in it: pymap's Maildir++ layout lists every directory at the
        # top of a maildir as a folder (a "sieve" directory there became a folder "ieve" that
        # STATUS then refused). A leading dot is never a login.
        self.scripts = scripts_dir(Path(user_dir))
        self.active_link = Path(user_dir) / "dovecot.sieve"

    def _path(self, name: str) -> Path:
        # Quoted: a script's name never leaves the directory (no "/", no NUL).
        return self.scripts / f"{quote(name, safe=' ')}{SUFFIX}"

    def _active_name(self) -> str | None:
        if not self.active_link.is_symlink():
            return None
        return unquote(self.active_link.readlink().name.removesuffix(SUFFIX))

    async def put(self, name: str, value: bytes) -> None:
        self.scripts.mkdir(parents=True, exist_ok=True)
        path = self._path(name)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(value)
        temporary.replace(path)

    async def delete(self, name: str) -> None:
        path = self._path(name)
        if not path.exists():
            raise KeyError(name)
        if self._active_name() == name:
            raise ValueError(name)
        path.unlink()

    async def rename(self, before_name: str, after_name: str) -> None:
        before, after = self._path(before_name), self._path(after_name)
        if not before.exists() or after.exists():
            raise KeyError(after_name if before.exists() else before_name)
        was_active = self._active_name() == before_name
        before.rename(after)
        if was_active:
            await self.set_active(after_name)

    async def clear_active(self) -> None:
        self.active_link.unlink(missing_ok=True)

    async def set_active(self, name: str) -> None:
        path = self._path(name)
        if not path.exists():
            raise KeyError(name)
        link = self.active_link.with_name("dovecot.sieve.new")
        link.unlink(missing_ok=True)
        link.symlink_to(os.path.relpath(path, self.active_link.parent))
        link.replace(self.active_link)

    async def get(self, name: str) -> bytes:
        path = self._path(name)
        if not path.exists():
            raise KeyError(name)
        return path.read_bytes()

    async def get_active(self) -> bytes | None:
        name = self._active_name()
        return await self.get(name) if name is not None else None

    async def get_all(self) -> tuple[str | None, Sequence[str]]:
        names = (
            sorted(unquote(path.name.removesuffix(SUFFIX)) for path in self.scripts.glob("*.sieve"))
            if self.scripts.is_dir()
            else []
        )
        return self._active_name(), names
