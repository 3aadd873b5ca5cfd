"""The task queue of the production shape (RQ on Redis): a task that fails is retried after
its delays, and a task whose worker is killed under it completes later, once."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from deploy.prodlike import wait_until


def _enqueue(shape, task: str, folder: Path) -> None:
    call = f"from tests.integration.tasks import {task}; {task}.enqueue(folder={str(folder)!r})"
    shape.manage("shell", "-c", call)


def _runs(folder: Path) -> list[str]:
    path = folder / "runs"
    return path.read_text().split() if path.exists() else []


def _children(parent: int) -> list[int]:
    """The processes whose parent is ``parent`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def test_a_failing_task_is_retried_after_growing_delays(shape, tmp_path):
    folder = tmp_path / "retries"
    folder.mkdir()
    _enqueue(shape, "fail_twice", folder)
    wait_until(lambda: len(_runs(folder)) >= 3, timeout=40, what="third attempt")
    times = [float(stamp) for stamp in _runs(folder)]
    assert len(times) == 3
    # CONVERGENCE_TASK_RETRY_DELAYS=0,3,6 in the shape: at once, then three seconds later
    # (RQ's scheduler counts whole seconds: at least two).
    assert times[1] - times[0] < 2
    assert times[2] - times[1] >= 2
    time.sleep(1)
    assert len(_runs(folder)) == 3  # succeeded: not run again


def test_a_task_whose_worker_is_killed_completes_later_once(shape, tmp_path):
    folder = tmp_path / "killed"
    folder.mkdir()
    _enqueue(shape, "work_until_released", folder)
    wait_until(lambda: _runs(folder) == ["start"], timeout=30, what="task started")

    worker = shape.children["worker"]
    assert worker.process is not None
    # A crash: the worker and the process running the task under it (RQ's work horse, in a
    # session of its own) die at once, without a word to Redis.
    for pid in [*_children(worker.process.pid), worker.process.pid]:
        os.kill(pid, signal.SIGKILL)
    worker.process.wait(timeout=10)
    killed_at = time.monotonic()
    (folder / "release").touch()
    replacement = shape.start_worker("worker-2")
    try:
        wait_until(lambda: "done" in _runs(folder), timeout=60, what="task taken up again")
        print(  # noqa: T201 - the figure of docs/performance.md (pytest -s)
            f"\nTâche reprise et finie {time.monotonic() - killed_at:.1f} s après la mort "
            "de son exécuteur"
        )
        time.sleep(2)
        assert _runs(folder) == ["start", "start", "done"]
    finally:
        shape.children["worker"] = replacement
