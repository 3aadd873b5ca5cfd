"""OAuth clients (the toolkit's ``Application`` rows) kept in each process for a few seconds.

Every token request authenticates its client, and the toolkit reads the client from the
database for each (twice for some grants). A client changes rarely — in the administration
or by loading a blueprint — so each process keeps what it read for ``CLIENT_CACHE_SECONDS``:
a change (new secret, other redirect URIs, a client deleted or its grant type changed) is
seen by every process within that time, and at once by the process that saved it (the
receivers in ``receivers.py`` empty its copy). Unknown client ids are remembered too, so
that junk requests cost no query either.

Callers get their own copy of the cached instance: nothing one request sets on it is seen by
another.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

from oauth2_provider.models import Application

# How long a process trusts what it read of a client: the longest a change made elsewhere
# (another process, another host) takes to apply.
CLIENT_CACHE_SECONDS = 5.0
# A process remembers at most this many client ids (known or not), then starts again.
MAX_ENTRIES = 512
# The toolkit's column is 100 characters: a longer id cannot exist.
MAX_CLIENT_ID_LENGTH = 100

# Monotonic seconds; tests replace it to move time forward.
clock: Callable[[], float] = time.monotonic

_entries: dict[str, tuple[float, Application | None]] = {}


def application(client_id: str) -> Application | None:
    """The client with this id as the database had it at most ``CLIENT_CACHE_SECONDS`` ago,
    or ``None`` when there is none."""
    if not client_id or len(client_id) > MAX_CLIENT_ID_LENGTH or "\x00" in client_id:
        return None
    now = clock()
    entry = _entries.get(client_id)
    if entry is None or entry[0] <= now:
        found = Application.objects.filter(client_id=client_id).first()
        if len(_entries) >= MAX_ENTRIES:
            _entries.clear()
        entry = (now + CLIENT_CACHE_SECONDS, found)
        _entries[client_id] = entry
    cached = entry[1]
    return copy.copy(cached) if cached is not None else None


def forget() -> None:
    """Drop every client this process remembers (a client was saved or deleted here)."""
    _entries.clear()
