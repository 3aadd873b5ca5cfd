"""Rendered HTML kept in the cache, shared by every person who would see the same thing.

A fragment is rendered once per key and reused until the key changes: keys carry a version
of what the fragment shows (the catalogue's, the académie's…), the language and the code
version (a deployment never serves fragments of the templates it replaced). Forms inside a
cached fragment are rendered with a placeholder instead of the CSRF token; ``fill_csrf``
puts this request's token in. The placeholder is derived from ``SECRET_KEY``, so it is the
same in every process sharing the cache and no content can contain it by chance or design
(a link carrying it cannot leak a token).

The cache being down never breaks a page: the fragment is then rendered every time.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import cache as memoize
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

FRAGMENT_SECONDS = 600


@memoize
def csrf_placeholder() -> str:
    return hmac.new(settings.SECRET_KEY.encode(), b"csrf-placeholder", hashlib.sha256).hexdigest()


def csrf_placeholder_context() -> dict[str, str]:
    """Context making ``{% csrf_token %}`` render the placeholder (for a cached fragment)."""
    return {"csrf_token": csrf_placeholder()}


def fill_csrf(html: str, request: HttpRequest) -> SafeString:
    """The cached fragment with this request's CSRF token (and its cookie set). One masked
    token per response, whatever the number of fragments (masking draws 32 random
    characters)."""
    placeholder = csrf_placeholder()
    if placeholder not in html:
        return mark_safe(html)  # noqa: S308  (rendered by our templates, escaped there)
    token = getattr(request, "_fragment_csrf_token", None)
    if token is None:
        token = get_token(request)
        request._fragment_csrf_token = token  # type: ignore[attr-defined]
    return mark_safe(html.replace(placeholder, token))  # noqa: S308


@memoize
def code_version() -> str:
    """Changes when any template or module of the project changes (a deployment)."""
    digest = hashlib.sha256()
    folders = [
        Path(config.path)
        for config in apps.get_app_configs()
        if config.name.startswith(("convergence.", "demo"))
    ]
    # The project's own catalog lives outside the apps (settings.LOCALE_PATHS).
    folders += [Path(folder) for folder in settings.LOCALE_PATHS]
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in {".html", ".py", ".mo"}:
                stat = path.stat()
                digest.update(f"{path}:{stat.st_mtime_ns}:{stat.st_size}".encode())
    return digest.hexdigest()[:12]


def key(name: str, *parts: object) -> str:
    """A fragment's cache key: its name, what it depends on, the language and the code."""
    raw = ":".join(str(part) for part in parts)
    digest = hashlib.sha256(raw.encode()).hexdigest()[:24]
    return f"fragment:{name}:{code_version()}:{get_language()}:{digest}"


class _Recent:
    """The fragments this process used last, by key. A key names everything its fragment
    depends on (versions, values, language, code), so what it holds never goes stale: a
    change makes a new key. It spares a round trip to Redis for the page's shell."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[str, str] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self.lock:
            html = self.entries.get(key)
            if html is not None:
                self.entries.move_to_end(key)
            return html

    def put(self, key: str, html: str) -> None:
        with self.lock:
            self.entries[key] = html
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()


recent = _Recent(size=1024)


def cached(fragment_key: str, render: Callable[[], str], timeout: int = FRAGMENT_SECONDS) -> str:
    """The fragment under ``fragment_key``: from this process's recent ones, else the shared
    cache, else rendered and stored."""
    html = recent.get(fragment_key)
    if html is not None:
        return html
    try:
        html = cache.get(fragment_key)
    except Exception:  # the cache backend's own errors (Redis down…): render every time
        logger.warning("Cache unreachable: fragment %s rendered without it.", fragment_key)
        return render()
    if html is None:
        html = render()
        try:
            cache.set(fragment_key, html, timeout)
        except Exception:
            logger.warning("Cache unreachable: fragment %s not stored.", fragment_key)
            return html
    recent.put(fragment_key, html)
    return html


def versions(*names: str) -> list[str]:
    """The version tokens of ``names``, in one round trip to the cache; ``bump`` replaces
    one, making every key built with the old token obsolete. Random tokens, not counters: a
    token evicted from the cache comes back as a new one, never as an old value that cached
    entries were keyed with."""
    keys = [f"version:{name}" for name in names]
    try:
        found = cache.get_many(keys)
        for missing in (key for key in keys if key not in found):
            cache.add(missing, secrets.token_hex(8), None)
            found[missing] = cache.get(missing)
    except Exception:  # the cache backend's own errors
        # A token nobody else gets: what is stored under it meanwhile is never read again.
        return [secrets.token_hex(8) for _ in names]
    return [str(found[key]) for key in keys]


def bump(name: str) -> None:
    try:
        cache.set(f"version:{name}", secrets.token_hex(8), None)
    except Exception:
        logger.warning("Cache unreachable: version %s not replaced.", name)
