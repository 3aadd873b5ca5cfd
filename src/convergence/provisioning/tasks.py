"""Background work of provisioning: closing a school year, and the daily purges of departed
accounts and of activation-letter files."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist

from convergence.accounts.models import SchoolYear, User
from convergence.provisioning import actions, letters


@task()
def purge_departed_accounts() -> int:
    """Delete the personal data of accounts archived longer than the retention time."""
    return actions.purge_departed_accounts()


@task()
def purge_stale_letter_files() -> int:
    """Delete activation-letter PDFs no longer needed (they hold activation codes)."""
    return letters.purge_stale_letter_files()


# --- Closing a school year in the background ---------------------------------------------------

# The key is older than the provisioning app; kept, so a closing under way survives an upgrade.
CLOSING_KEY = "accounts:school-year-closing"
# Long enough for the largest académie; the page stops saying "en cours" once the year is
# closed, or when the task backend reports a failure.
CLOSING_SECONDS = 24 * 3600


@task()
def close_school_year(acting_user_id: int | None, year: str) -> dict[str, Any]:
    """Close ``year`` (``actions.close_school_year``); what it did, or the French error."""
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
