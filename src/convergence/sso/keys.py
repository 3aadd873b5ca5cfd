"""OpenID Connect signing keys, kept as PEM files in a directory (never in the database).

The newest key signs; older keys stay published in the JWKS for ``grace`` seconds after the
next key appeared, so tokens they signed can still be verified until they expire. Settings read
the directory at start; ``manage.py rotate_oidc_key`` adds a key and prunes the old ones, and
the application processes pick it up when they restart (docs/sso.md). This module imports
nothing from Django so that settings can use it.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto import jwk

KEY_SIZE = 2048


@dataclass(frozen=True)
class KeyFile:
    path: Path
    created: int

    def pem(self) -> str:
        return self.path.read_text()


def key_id(pem: str) -> str:
    """The ``kid`` the JWKS publishes for this key (its RFC 7638 thumbprint, as the toolkit)."""
    thumbprint: str = jwk.JWK.from_pem(pem.encode()).thumbprint()
    return thumbprint


def list_keys(directory: Path) -> list[KeyFile]:
    """Keys in the directory, newest first."""
    keys = []
    for path in directory.glob("key-*.pem"):
        try:
            created = int(path.stem.removeprefix("key-"))
        except ValueError:
            continue
        keys.append(KeyFile(path=path, created=created))
    return sorted(keys, key=lambda key: key.created, reverse=True)


def generate_key(directory: Path, now: int | None = None) -> KeyFile:
    """Write a new RSA key, readable by its owner only; never overwrite an existing file."""
    directory.mkdir(parents=True, exist_ok=True)
    created = int(now if now is not None else time.time())
    existing = {key.created for key in list_keys(directory)}
    while created in existing:
        created += 1
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    path = directory / f"key-{created}.pem"
    temporary = directory / f".{path.name}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(pem)
    try:
        # link() fails if another process created the same key file meanwhile.
        os.link(temporary, path)
    finally:
        temporary.unlink()
    return KeyFile(path=path, created=created)


def active_and_published(
    directory: Path, grace: int, now: int | None = None
) -> tuple[str, list[str]]:
    """The signing key and the retired keys still published, creating a first key if none."""
    keys = list_keys(directory)
    if not keys:
        # Another process of the same start may have created it first.
        with contextlib.suppress(FileExistsError):
            generate_key(directory, now)
        keys = list_keys(directory)
    moment = int(now if now is not None else time.time())
    active, retired = keys[0], keys[1:]
    published = []
    successor = active
    for key in retired:
        # A key stopped signing when its successor appeared.
        if successor.created + grace > moment:
            published.append(key.pem())
        successor = key
    return active.pem(), published


def prune(directory: Path, grace: int, now: int | None = None) -> list[Path]:
    """Delete retired keys whose tokens have all expired; returns the deleted paths."""
    keys = list_keys(directory)
    moment = int(now if now is not None else time.time())
    deleted = []
    for successor, key in itertools.pairwise(keys):
        if successor.created + grace <= moment:
            key.path.unlink(missing_ok=True)
            deleted.append(key.path)
    return deleted
