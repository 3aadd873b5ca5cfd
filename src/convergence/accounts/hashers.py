"""Argon2id with the cost chosen from a measurement (docs/security.md), read from settings."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher

from convergence.accounts.passwords import normalise


class ConvergenceArgon2PasswordHasher(Argon2PasswordHasher):
    """Django's Argon2id hasher with memory/time/parallelism from settings.

    Passwords are hashed and verified in Unicode NFC, the form the policy checks, so "é" typed
    as one code point or as "e" + accent is the same password on every device. The cost is read
    when the hasher is first built (Django caches hashers), not at import. Hashes made with
    other parameters still verify and are re-hashed at the next sign-in (``must_update``).
    """

    def __init__(self) -> None:
        self.time_cost = int(settings.ARGON2_TIME_COST)
        self.memory_cost = int(settings.ARGON2_MEMORY_KIB)
        self.parallelism = int(settings.ARGON2_PARALLELISM)
        # Argon2 is bound by memory bandwidth: more hashes at once than cores only evict each
        # other's 19 MiB from the processor's cache (measured: 8 at once cost 12 % more CPU
        # each than 2). Threads beyond the limit wait their turn, which costs no CPU.
        self._turns = threading.BoundedSemaphore(max(1, int(settings.ARGON2_CONCURRENCY)))

    def encode(self, password: str, salt: str) -> Any:
        with self._turns:
            return super().encode(normalise(password), salt)

    def verify(self, password: str, encoded: str) -> Any:
        with self._turns:
            return super().verify(normalise(password), encoded)
