"""Background work of accounts: the daily housekeeping jobs, and when each last ran.

django-tasks has no scheduler: ``manage.py run_scheduled`` (cron, a systemd timer, or its own
``--loop``) enqueues each job of ``DAILY_JOBS`` at most once per day (Europe/Paris), and
remembers when in ``VAR_DIR/scheduled-jobs.json`` (docs/operations.md, "Tâches planifiées").
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import io
import json
import logging
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from django_tasks import task
from django_tasks.base import Task, TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist

from . import actions

logger = logging.getLogger(__name__)

STATE_FILE = "scheduled-jobs.json"


@task()
def purge_departed_accounts() -> int:
    """Delete the personal data of accounts archived longer than the retention time."""
    return actions.purge_departed_accounts()


@task()
def purge_old_audit_events() -> int:
    """Delete audit entries older than the audit retention time."""
    return actions.purge_old_audit_events()


@task()
def purge_expired_codes() -> int:
    """Delete one-time codes expired for more than a day."""
    return actions.purge_expired_codes()


@task()
def purge_stale_letter_files() -> int:
    """Delete activation-letter PDFs no longer needed (they hold activation codes)."""
    from . import letters

    return letters.purge_stale_letter_files()


@task()
def purge_single_sign_on() -> None:
    """Single sign-on's own housekeeping (expired tickets, codes, tokens, sessions)."""
    # Through its management command, the interface the sso app offers for it.
    call_command("sso_purge", stdout=io.StringIO())


@task()
def clear_expired_sessions() -> None:
    """Delete expired portal sessions (Django's ``clearsessions``)."""
    engine = import_module(settings.SESSION_ENGINE)
    with contextlib.suppress(NotImplementedError):
        engine.SessionStore.clear_expired()


DAILY_JOBS: dict[str, Task[Any, Any]] = {
    "purge_departed_accounts": purge_departed_accounts,
    "purge_old_audit_events": purge_old_audit_events,
    "purge_expired_codes": purge_expired_codes,
    "purge_stale_letter_files": purge_stale_letter_files,
    "purge_single_sign_on": purge_single_sign_on,
    "clear_expired_sessions": clear_expired_sessions,
}


def _state_path() -> Path:
    return Path(settings.VAR_DIR) / STATE_FILE


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    """One ``run_scheduled`` at a time on this machine (cron and a loop may overlap)."""
    lock_path = Path(settings.VAR_DIR) / f"{STATE_FILE}.lock"
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def last_runs() -> dict[str, datetime.datetime]:
    """When each daily job was last started (enqueued or run), in UTC."""
    try:
        raw = json.loads(_state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    runs: dict[str, datetime.datetime] = {}
    if isinstance(raw, dict):
        for name, value in raw.items():
            with contextlib.suppress(TypeError, ValueError):
                runs[str(name)] = datetime.datetime.fromisoformat(value)
    return runs


def _save_runs(runs: dict[str, datetime.datetime]) -> None:
    path = _state_path()
    temporary = path.with_suffix(".tmp")
    temporary.write_text(
        json.dumps({name: moment.isoformat() for name, moment in sorted(runs.items())}),
        encoding="utf-8",
    )
    temporary.replace(path)


def is_due(last: datetime.datetime | None, now: datetime.datetime) -> bool:
    """A daily job is due when it has not run yet today (Europe/Paris)."""
    return last is None or timezone.localdate(last) < timezone.localdate(now)


def run_due_jobs(*, now: datetime.datetime | None = None, inline: bool = False) -> list[str]:
    """Enqueue (or, ``inline``, run here) every daily job not yet run today; their names.

    A job that fails inline is logged and tried again at the next check.
    """
    moment = now or timezone.now()
    started: list[str] = []
    with _locked():
        runs = last_runs()
        for name, job in DAILY_JOBS.items():
            if not is_due(runs.get(name), moment):
                continue
            try:
                if inline:
                    job.call()
                else:
                    job.enqueue()
            except Exception:
                logger.exception("Scheduled job %s failed", name)
                continue
            runs[name] = moment
            started.append(name)
            _save_runs(runs)
    return started


# --- Closing a school year in the background ---------------------------------------------------

CLOSING_KEY = "accounts:school-year-closing"
# Long enough for the largest académie; the page stops saying "en cours" once the year is
# closed, or when the task backend reports a failure.
CLOSING_SECONDS = 24 * 3600


@task()
def close_school_year(acting_user_id: int | None, year: str) -> dict[str, Any]:
    """Close ``year`` (``actions.close_school_year``); what it did, or the French error."""
    from .models import User

    acting_user = User.objects.filter(pk=acting_user_id).first() if acting_user_id else None
    try:
        closing = actions.close_school_year(acting_user=acting_user, year=year)
    except actions.SchoolYearError as error:
        return {"year": year, "error": str(error)}
    return {"year": year, "archived": closing.archived, "leavers": closing.leavers}


def start_school_year_closing(*, acting_user: Any, year: str) -> None:
    """Hand the closing of ``year`` to the task worker (archiving takes minutes at scale)."""
    result = close_school_year.enqueue(acting_user_id=acting_user.pk, year=year)
    cache.set(CLOSING_KEY, {"year": year, "result_id": result.id}, CLOSING_SECONDS)


def school_year_closing() -> dict[str, Any] | None:
    """The closing in progress (``{"year", "failed"}``), or None when there is none."""
    from .models import SchoolYear

    state = cache.get(CLOSING_KEY)
    if not isinstance(state, dict):
        return None
    if SchoolYear.objects.filter(name=state["year"], closed_at__isnull=False).exists():
        cache.delete(CLOSING_KEY)
        return None
    failed = False
    if close_school_year.get_backend().supports_get_result:
        try:
            result = close_school_year.get_result(state["result_id"])
        except TaskResultDoesNotExist:
            failed = True
        else:
            failed = result.status == TaskResultStatus.FAILED or (
                result.is_finished and bool((result.return_value or {}).get("error"))
            )
    else:
        # Backends without results (immediate) ran it already: it did not close the year.
        failed = True
    if failed:
        cache.delete(CLOSING_KEY)
    return {"year": state["year"], "failed": failed}
