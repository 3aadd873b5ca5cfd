"""Argon2id with the cost chosen from a measurement (docs/security.md), read from settings."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class ConvergenceArgon2PasswordHasher(Argon2PasswordHasher):
    """Django's Argon2id hasher with memory/time/parallelism from settings.

    Hashes made with other parameters still verify and are upgraded at the next sign-in
    (Django's ``must_update``).
    """

    algorithm = "argon2"

    @property  # type: ignore[override]
    def time_cost(self) -> int:
        return int(settings.ARGON2_TIME_COST)

    @property  # type: ignore[override]
    def memory_cost(self) -> int:
        return int(settings.ARGON2_MEMORY_KIB)

    @property  # type: ignore[override]
    def parallelism(self) -> int:
        return int(settings.ARGON2_PARALLELISM)
