"""Fixtures of the accounts tests: the throttle's clock."""

from __future__ import annotations

import time

import pytest

from convergence.accounts import throttle

real_time = time.time


class Clock:
    """A clock that only moves when told: attempts happen at exact instants, delays are
    checked to the second."""

    def __init__(self) -> None:
        self.now = real_time()

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze the throttle's clock (``time.time``, not our code) for the test."""
    frozen = Clock()
    monkeypatch.setattr(throttle.time, "time", lambda: frozen.now)
    return frozen
