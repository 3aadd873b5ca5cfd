"""The schedule: every app's daily jobs run at most once a day (Europe/Paris), periodic ones at
most once per interval, and two hosts racing for a due job never both start it (time travel by
passing ``now=``)."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks import task

from convergence.accounts.models import User
from convergence.core import schedule
from convergence.core.models import ScheduledJob
from convergence.core.schedule import last_runs, run_due_jobs
from convergence.provisioning import actions as provisioning_actions

DAY = datetime.timedelta(days=1)
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
JOB_NAMES = {
    "purge_departed_accounts",
    "purge_old_audit_events",
    "purge_expired_codes",
    "purge_stale_letter_files",
    "purge_single_sign_on",
    "clear_expired_sessions",
}

# What the test jobs did, in this process (threads included).
runs: list[str] = []


@task()
def count_run() -> None:
    """A job of the tests: says it ran."""
    runs.append("count_run")


@task()
def fail_run() -> None:
    """A job of the tests that fails."""
    runs.append("fail_run")
    raise RuntimeError("the job failed")


def archived_days_ago(user: User, days: int) -> None:
    provisioning_actions.archive_account(
        acting_user=None, user=user, now=timezone.now() - days * DAY
    )


@pytest.fixture
def scheduling(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.TASKS = IMMEDIATE_TASKS
    return tmp_path


@pytest.fixture
def extra_job() -> Iterator[Callable[..., schedule.Job]]:
    """Register jobs of the test beside the apps' own; they are unregistered afterwards."""
    runs.clear()
    names: list[str] = []

    def register(name: str, job_task: Any = count_run, **kwargs: Any) -> schedule.Job:
        names.append(name)
        return schedule.register_job(name, job_task, **kwargs)

    yield register
    for name in names:
        schedule.unregister_job(name)


@pytest.fixture
def only_test_jobs(monkeypatch, extra_job):
    """A schedule holding the test's jobs alone (the apps' purges left out)."""
    monkeypatch.setattr(schedule, "_JOBS", {})
    return extra_job


# --- The apps' daily jobs ----------------------------------------------------------------------


def test_every_app_registers_its_daily_jobs_under_their_old_names():
    registered = {job.name: job for job in schedule.jobs()}

    assert set(registered) >= JOB_NAMES
    assert all(registered[name].daily for name in JOB_NAMES)


@pytest.mark.django_db
def test_scheduled_jobs_run_once_a_day(scheduling, pupil):
    archived_days_ago(pupil, 93)
    now = timezone.now()

    first = run_due_jobs(now=now)
    again = run_due_jobs(now=now + datetime.timedelta(minutes=5))

    assert "purge_departed_accounts" in first
    assert "purge_old_audit_events" in first
    assert "purge_single_sign_on" in first
    assert set(first) >= JOB_NAMES
    daily = {job.name for job in schedule.jobs() if job.daily}
    # Five minutes later only the jobs that run more often than daily are due again (the
    # outbox's mail delivery runs every minute).
    assert not set(again) & daily
    assert not User.objects.filter(pk=pupil.pk).exists()
    assert set(last_runs()) == set(first)
    assert all(started == now for name, started in last_runs().items() if name in daily)


@pytest.mark.django_db
def test_scheduled_jobs_run_again_the_next_day(scheduling):
    now = timezone.now()
    run_due_jobs(now=now)

    assert set(run_due_jobs(now=now + DAY)) >= JOB_NAMES


@pytest.mark.django_db
def test_run_scheduled_command_runs_inline_once(scheduling, pupil, capsys):
    archived_days_ago(pupil, 93)

    call_command("run_scheduled", "--inline")
    call_command("run_scheduled", "--inline")

    output = capsys.readouterr().out
    assert "purge_departed_accounts" in output
    assert "déjà tourné aujourd'hui" in output
    assert not User.objects.filter(pk=pupil.pk).exists()


@pytest.mark.django_db
def test_the_schedule_keeps_its_state_in_the_database_not_under_var(scheduling):
    run_due_jobs(now=timezone.now(), inline=True)

    assert list(scheduling.iterdir()) == []
    rows = ScheduledJob.objects.filter(name__in=JOB_NAMES)
    assert rows.count() == len(JOB_NAMES)
    assert not rows.filter(last_started_at__isnull=True).exists()
    assert not rows.filter(last_finished_at__isnull=True).exists()


# --- Days, intervals and failures ------------------------------------------------------------


@pytest.mark.django_db
def test_a_daily_job_runs_again_after_midnight_in_paris_not_in_utc(only_test_jobs):
    only_test_jobs("nightly")
    late = datetime.datetime(2025, 3, 10, 23, 30, tzinfo=PARIS)
    # 00:10 in Paris is still 10 March in UTC: the Paris calendar day decides.
    after_midnight = datetime.datetime(2025, 3, 11, 0, 10, tzinfo=PARIS)

    assert run_due_jobs(now=late) == ["nightly"]
    assert run_due_jobs(now=late + datetime.timedelta(minutes=25)) == []
    assert run_due_jobs(now=after_midnight) == ["nightly"]


@pytest.mark.django_db
def test_a_periodic_job_runs_again_only_after_its_interval(only_test_jobs):
    only_test_jobs("hourly", every=datetime.timedelta(hours=1))
    start = datetime.datetime(2025, 3, 10, 23, 30, tzinfo=PARIS)

    assert run_due_jobs(now=start, inline=True) == ["hourly"]
    # Midnight has passed, but not an hour.
    assert run_due_jobs(now=start + datetime.timedelta(minutes=59), inline=True) == []
    assert run_due_jobs(now=start + datetime.timedelta(hours=1), inline=True) == ["hourly"]
    assert runs == ["count_run", "count_run"]
    assert last_runs() == {"hourly": start + datetime.timedelta(hours=1)}


@pytest.mark.django_db
def test_a_job_registered_by_a_test_runs_and_its_run_is_recorded(extra_job):
    extra_job("count_for_the_test")
    now = timezone.now()

    started = run_due_jobs(now=now, inline=True)

    assert "count_for_the_test" in started
    assert runs == ["count_run"]
    assert last_runs()["count_for_the_test"] == now
    row = ScheduledJob.objects.get(name="count_for_the_test")
    assert row.last_started_at is not None
    assert row.last_finished_at is not None
    assert row.last_finished_at >= row.last_started_at


@pytest.mark.django_db
def test_a_job_that_fails_inline_is_tried_again_at_the_next_check(only_test_jobs):
    only_test_jobs("failing", fail_run)
    now = timezone.now()

    assert run_due_jobs(now=now, inline=True) == []
    assert run_due_jobs(now=now + datetime.timedelta(minutes=5), inline=True) == []

    assert runs == ["fail_run", "fail_run"]
    assert last_runs() == {}


@pytest.mark.django_db
def test_the_worker_finishing_a_job_records_when(settings, only_test_jobs):
    settings.TASKS = IMMEDIATE_TASKS
    only_test_jobs("enqueued")

    assert run_due_jobs(now=timezone.now()) == ["enqueued"]

    assert ScheduledJob.objects.get(name="enqueued").last_finished_at is not None


@pytest.mark.django_db
def test_an_enqueued_job_stays_claimed_without_a_worker(only_test_jobs):
    # The settings' database backend: enqueued, not run (no worker in tests).
    only_test_jobs("queued")
    now = timezone.now()

    assert run_due_jobs(now=now) == ["queued"]
    assert run_due_jobs(now=now + datetime.timedelta(minutes=5)) == []
    assert runs == []
    assert ScheduledJob.objects.get(name="queued").last_finished_at is None


def test_another_task_under_a_taken_name_is_refused(extra_job):
    extra_job("taken")

    with pytest.raises(ValueError, match="already registered"):
        schedule.register_job("taken", fail_run)
    assert extra_job("taken").task is count_run


# --- Two hosts at once -------------------------------------------------------------------------


@pytest.fixture
def race(concurrent_db, run_together):
    """``race(count, function)``: ``function()`` from ``count`` threads released together, each
    with its own database connection (as separate hosts would); what each returned."""
    return lambda count, function: run_together(count, lambda _number: function())


def test_of_claims_racing_for_a_due_job_exactly_one_wins(only_test_jobs, race):
    job = only_test_jobs("contested")
    ScheduledJob.objects.create(name="contested")
    now = timezone.now()

    wins = race(8, lambda: schedule.claim(job, now=now))

    assert sorted(wins) == [False] * 7 + [True]
    assert ScheduledJob.objects.get(name="contested").last_started_at == now


def test_two_hosts_running_the_schedule_at_once_start_a_job_once(only_test_jobs, race):
    # Neither has seen the job before: both create its row, then both claim it.
    only_test_jobs("contested")
    now = timezone.now()

    started = race(2, lambda: run_due_jobs(now=now, inline=True))

    assert sorted(started) == [[], ["contested"]]
    assert runs == ["count_run"]
    assert ScheduledJob.objects.filter(name="contested").count() == 1
