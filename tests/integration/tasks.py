"""Tasks the integration tests hand to the shape's worker (imported by the worker from the
repository, as ``tests.integration.tasks``): they leave traces in a folder the test reads."""

from __future__ import annotations

import time
from pathlib import Path

from django_tasks import task

WAIT_SECONDS = 30


def _note(folder: Path, line: str) -> None:
    with (folder / "runs").open("a") as handle:
        handle.write(line + "\n")


@task()
def work_until_released(*, folder: str) -> None:
    """Note its start, wait for the test to release it (a file), then note its end."""
    where = Path(folder)
    _note(where, "start")
    deadline = time.monotonic() + WAIT_SECONDS
    while not (where / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    _note(where, "done")


@task()
def fail_twice(*, folder: str) -> None:
    """Fail on the first two attempts, succeed on the third; each attempt notes its time."""
    where = Path(folder)
    _note(where, f"{time.time():.3f}")
    attempts = (where / "runs").read_text().split()
    if len(attempts) < 3:
        raise RuntimeError("échec voulu par le test")
