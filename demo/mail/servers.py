"""The three demo mail servers on one event loop: IMAP, ManageSieve and submission.

:class:`MailServers` runs them in a thread of their own (the management command waits on it;
tests start one on free ports and stop it).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from demo.mail.auth import PortalChecker
from demo.mail.imap import DemoConfig, start_imap, start_managesieve
from demo.mail.submission import Directory, SubmissionHandler, start_submission

START_SECONDS = 10.0


@dataclass
class Ports:
    """Where each server listens (0 before the start: any free port)."""

    imap: int
    submission: int
    sieve: int


@dataclass
class MailServers:
    """The demo's mail servers, started in a background thread with their own loop."""

    base_dir: Path
    checker: PortalChecker
    directory: Directory
    host: str = "127.0.0.1"
    ports: Ports = field(default_factory=lambda: Ports(0, 0, 0))
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _stop: asyncio.Event | None = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _error: BaseException | None = None

    def start(self, timeout: float = START_SECONDS) -> Ports:
        """Bind the three servers; their ports once listening (raises if they cannot)."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="demo-mail", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("Les serveurs de messagerie n'ont pas démarré à temps.")
        if self._error is not None:
            raise self._error
        return self.ports

    def stop(self, timeout: float = START_SECONDS) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def wait(self) -> None:
        """Block until the servers stop (the management command's main thread)."""
        if self._thread is not None:
            while self._thread.is_alive():
                self._thread.join(1.0)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        config = DemoConfig(base_dir=self.base_dir, host=self.host, port=self.ports.imap)
        handler = SubmissionHandler(
            base_dir=self.base_dir, checker=self.checker, directory=self.directory
        )
        imap = await start_imap(config, self.checker, host=self.host, port=self.ports.imap)
        sieve = await start_managesieve(config, self.checker, host=self.host, port=self.ports.sieve)
        submission = await start_submission(handler, host=self.host, port=self.ports.submission)
        servers = (imap, submission, sieve)  # the order of Ports
        try:
            self.ports = Ports(*(_port(server) for server in servers))
            self._ready.set()
            await self._stop.wait()
        finally:
            for server in servers:
                server.close()
            for server in servers:
                await asyncio.wait_for(server.wait_closed(), START_SECONDS)


def _port(server: asyncio.AbstractServer) -> int:
    sockets: tuple[Any, ...] = tuple(getattr(server, "sockets", ()))
    return int(sockets[0].getsockname()[1])
