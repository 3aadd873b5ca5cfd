"""Account imports: accepting a file, running its dry run, applying it (docs/imports.md).

How a run keeps its promises:

- **Nothing saved on a bad file.** The whole file is read, checked and compared with the
  database (``imports.parse`` then ``imports.compute_plan``) before the first write; one bad
  line, a wrong header or a broken encoding and the run stops there, having written nothing
  but its own report.
- **Progress visible while it runs.** The writes are cut into chunks of file rows, each chunk
  in its own transaction which also records ``ImportJob.processed_rows``: the progress a page
  polls is exactly what is committed. One transaction for 200,000 rows would hold SQLite's
  only write lock for a minute — every sign-in of the portal would wait, then fail — and
  would hide its progress from every other connection.
- **Resumable.** A run whose worker was killed has committed whole chunks only (a person,
  their assignments and guardianships are written in the chunk of their first line). Running
  the job again computes a fresh plan against the database, in which the committed chunks
  are already there: it carries on with the rest and ends in the same state as an
  uninterrupted run. That is the idempotence every import has anyway: re-importing the same
  file changes nothing.
"""

from __future__ import annotations

import datetime
import logging
import os
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from convergence.accounts import events as accounts_events
from convergence.accounts.actions.accounts import change_account_state
from convergence.accounts.logins import allocate_logins_bulk
from convergence.accounts.models import (
    AccountState,
    Assignment,
    Guardianship,
    User,
    current_school_year,
)
from convergence.audit.actions import record_event
from convergence.provisioning import events, imports
from convergence.provisioning.actions.lifecycle import archive_account
from convergence.provisioning.models import ImportJob, JobState

logger = logging.getLogger(__name__)

IMPORTS_DIR = "imports"
# File rows written per transaction: big enough for bulk inserts to pay, small enough for
# the progress bar to move and for SQLite's write lock to be released often.
CHUNK_ROWS = 5000
# Rows between two progress updates while the file is read and checked.
CHECK_PROGRESS_EVERY = 10000
# A running job whose progress has not moved for this long is considered interrupted.
STALE_AFTER = datetime.timedelta(minutes=5)

Progress = Callable[[str, int, int], None]


class ImportRefused(Exception):
    """An import request that cannot be honoured; the message is French, for the user."""


def import_path(job: ImportJob) -> Path:
    return Path(settings.VAR_DIR) / job.file_path


def _store_file(content: Iterable[bytes]) -> str:
    """Write an uploaded file under VAR_DIR/imports/, readable by the portal's user only."""
    directory = Path(settings.VAR_DIR) / IMPORTS_DIR
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    relative = f"{IMPORTS_DIR}/{uuid.uuid4()}.csv"
    descriptor = os.open(
        Path(settings.VAR_DIR) / relative, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
    )
    with os.fdopen(descriptor, "wb") as output:
        for chunk in content:
            output.write(chunk)
    return relative


def create_import_job(
    *,
    acting_user: User | None,
    kind: str,
    content: Iterable[bytes],
    file_name: str,
    school_year: str | None = None,
    request: HttpRequest | None = None,
    enqueue: bool = True,
) -> ImportJob:
    """Store a file and queue its dry run (audited ``import.run``, stage "demande").

    The file is kept under VAR_DIR/imports/ (mode 0600) until it is applied.
    """
    relative = _store_file(content)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind,
            dry_run=True,
            school_year=school_year or current_school_year(),
            file_name=file_name[:200],
            file_path=relative,
            requested_by=acting_user,
        )
        _audit_request(job, acting_user, request)
        if enqueue:
            transaction.on_commit(lambda: run_import.enqueue(job.pk))
    return job


def apply_import_job(
    *,
    acting_user: User | None,
    job: ImportJob,
    request: HttpRequest | None = None,
    enqueue: bool = True,
) -> ImportJob:
    """Queue the real run of a dry run that succeeded without errors (audited).

    Asking twice gives back the run already queued, never a second one.
    """
    if not can_apply(job):
        raise ImportRefused(_("Seule une simulation terminée sans erreur peut être appliquée."))
    if not import_path(job).exists():
        raise ImportRefused(
            _("Le fichier de cet import n'est plus disponible ; déposez-le à nouveau.")
        )
    with transaction.atomic():
        # Locks the dry run's row (PostgreSQL): two clicks cannot queue two runs.
        ImportJob.objects.select_for_update().filter(pk=job.pk).first()
        existing = applied_run(job)
        if existing is not None:
            return existing
        run = ImportJob.objects.create(
            kind=job.kind,
            dry_run=False,
            school_year=job.school_year,
            file_name=job.file_name,
            file_path=job.file_path,
            requested_by=acting_user,
            report={"dry_run_job": job.pk},
        )
        _audit_request(run, acting_user, request)
        if enqueue:
            transaction.on_commit(lambda: run_import.enqueue(run.pk))
    return run


def resume_import_job(
    *, acting_user: User | None, job: ImportJob, request: HttpRequest | None = None
) -> ImportJob:
    """Queue an interrupted real run again; it carries on where the database stands."""
    if not can_resume(job):
        raise ImportRefused(_("Cet import n'est pas interrompu."))
    ImportJob.objects.filter(pk=job.pk).update(state=JobState.PENDING)
    job.state = JobState.PENDING
    _audit_request(job, acting_user, request, stage="reprise")
    transaction.on_commit(lambda: run_import.enqueue(job.pk))
    return job


def can_apply(job: ImportJob) -> bool:
    report = job.report or {}
    return (
        job.dry_run
        and job.state == JobState.DONE
        and not report.get("fatal")
        and not report.get("error_count")
    )


def applied_run(job: ImportJob) -> ImportJob | None:
    """The real run made from this dry run, if any."""
    return ImportJob.objects.filter(dry_run=False, file_path=job.file_path).order_by("-pk").first()


def can_resume(job: ImportJob) -> bool:
    """A real run that failed for a reason other than its file, or that stopped moving."""
    if job.dry_run or not import_path(job).exists():
        return False
    report = job.report or {}
    if job.state == JobState.FAILED:
        return bool(report.get("interrupted"))
    if job.state == JobState.RUNNING:
        beat = report.get("heartbeat")
        if not beat:
            return False
        return timezone.now() - datetime.datetime.fromisoformat(beat) > STALE_AFTER
    return False


def _audit_request(
    job: ImportJob, acting_user: User | None, request: HttpRequest | None, stage: str = "demande"
) -> None:
    record_event(
        event_type=events.IMPORT_RUN,
        request=request,
        actor=acting_user,
        data={
            "job": job.pk,
            "kind": job.kind,
            "dry_run": job.dry_run,
            "school_year": job.school_year,
            "file": job.file_name,
            "stage": stage,
        },
    )


# --- Running ------------------------------------------------------------------------------


@task()
def run_import(job_id: int) -> None:
    """The background task: a dry run or a real run of one job (see the module's docstring)."""
    execute_import_job(job_id)


def execute_import_job(job_id: int, *, progress: Progress | None = None) -> ImportJob:
    """Run a job now, in this process; used by the task and by ``manage.py import_accounts``.

    Never raises for a bad file: the job ends ``failed`` with a French report. An unexpected
    error marks the job failed (resumable) and is re-raised.
    """
    job = ImportJob.objects.get(pk=job_id)
    if job.state == JobState.DONE:
        return job  # a task delivered twice
    report: dict[str, Any] = dict(job.report or {})
    report.pop("interrupted", None)
    report.pop("fatal", None)
    started = timezone.now()
    job.state = JobState.RUNNING
    job.started_at = job.started_at or started
    job.processed_rows = 0
    report.update(phase="verification", heartbeat=started.isoformat())
    job.report = report
    job.save(update_fields=["state", "started_at", "processed_rows", "report"])

    def show(phase: str, done: int) -> None:
        if progress is not None:
            progress(phase, done, job.total_rows)

    def checked(done: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(processed_rows=done)
        show("verification", done)

    try:
        data = import_path(job).read_bytes()
        # Lines after the header, for the progress bar until the exact count is known.
        job.total_rows = max(0, data.count(b"\n") - (1 if data.endswith(b"\n") else 0))
        ImportJob.objects.filter(pk=job.pk).update(total_rows=job.total_rows)
        parsed = imports.parse(
            data, job.kind, progress=checked, progress_every=CHECK_PROGRESS_EVERY
        )
        job.total_rows = parsed.total_rows
        plan = imports.compute_plan(parsed, school_year=job.school_year)
        report.update(_report(plan))
        report["check_seconds"] = round((timezone.now() - started).total_seconds(), 1)
        if parsed.error_count:
            report["phase"] = "termine"
            return _finish(job, report, JobState.DONE if job.dry_run else JobState.FAILED)
        if job.dry_run:
            report["phase"] = "termine"
            job.processed_rows = parsed.total_rows
            return _finish(job, report, JobState.DONE)
        report["phase"] = "ecriture"
        ImportJob.objects.filter(pk=job.pk).update(
            total_rows=job.total_rows, processed_rows=0, report=report
        )
        write_started = timezone.now()
        apply_plan(plan, job=job, acting_user=job.requested_by, progress=progress, report=report)
        report["write_seconds"] = round((timezone.now() - write_started).total_seconds(), 1)
        report["phase"] = "termine"
        job.processed_rows = parsed.total_rows
        finished = _finish(job, report, JobState.DONE)
        # The data is in the database now; the file holds personal data: it goes.
        import_path(job).unlink(missing_ok=True)
        return finished
    except imports.ImportFileError as error:
        report.update(phase="termine", fatal=str(error), error_count=1)
        return _finish(job, report, JobState.FAILED)
    except Exception:
        logger.exception("Import %s interrupted", job.pk)
        report.update(
            phase="termine",
            interrupted=True,
            fatal=_(
                "L'import s'est interrompu sur une erreur inattendue. Ce qui a été enregistré "
                "l'a été par lots complets ; relancez-le : il reprendra là où il s'est arrêté."
            )
            if not job.dry_run
            else _("La simulation s'est interrompue sur une erreur inattendue ; relancez-la."),
        )
        _finish(job, report, JobState.FAILED)
        raise


def _finish(job: ImportJob, report: dict[str, Any], state: str) -> ImportJob:
    job.state = state
    job.finished_at = timezone.now()
    job.report = report
    job.save(update_fields=["state", "finished_at", "report", "total_rows", "processed_rows"])
    record_event(
        event_type=events.IMPORT_RUN,
        actor=job.requested_by,
        data={
            "job": job.pk,
            "kind": job.kind,
            "dry_run": job.dry_run,
            "school_year": job.school_year,
            "stage": "termine" if state == JobState.DONE else "echec",
            "rows": job.total_rows,
            "counts": {
                name: value
                for name, value in (report.get("counts") or {}).items()
                if isinstance(value, int)
            },
            "error_count": report.get("error_count", 0),
        },
    )
    return job


def _report(plan: imports.Plan) -> dict[str, Any]:
    parsed = plan.parsed
    return {
        "counts": plan.counts(),
        "error_count": parsed.error_count,
        "errors": [message for _line, message in parsed.errors],
        "warning_count": parsed.warning_count,
        "warnings": [message for _line, message in parsed.warnings],
        "samples": plan.samples,
    }


# --- Writing a plan -----------------------------------------------------------------------


def apply_plan(
    plan: imports.Plan,
    *,
    job: ImportJob | None,
    acting_user: User | None,
    progress: Progress | None = None,
    report: dict[str, Any] | None = None,
    chunk_rows: int | None = None,
) -> None:
    """Write a plan: one transaction per chunk of file rows, then one for the departures.

    Each chunk's transaction also records the job's progress. Leavers are archived by the
    lifecycle action ``archive_account`` (sessions ended, personal data purged later).
    """
    chunk_rows = chunk_rows or CHUNK_ROWS
    total = plan.parsed.total_rows
    buckets: dict[int, _Chunk] = defaultdict(_Chunk)
    for person in plan.creations:
        buckets[person.row // chunk_rows].creations.append(person)
    for pk, changes in plan.updates.items():
        buckets[plan.update_rows[pk] // chunk_rows].updates.append((pk, changes))
    for creation in plan.assignment_creations:
        buckets[creation[4] // chunk_rows].assignment_creations.append(creation)
    for update in plan.assignment_updates:
        buckets[update[2] // chunk_rows].assignment_updates.append(update)
    for guardianship in plan.guardianship_creations:
        buckets[guardianship[2] // chunk_rows].guardianship_creations.append(guardianship)

    pks = dict(plan.existing)
    now = timezone.now()
    for index in range(max(1, -(-total // chunk_rows))):
        done = min(total, (index + 1) * chunk_rows)
        chunk = buckets.pop(index, None)
        if chunk is None:
            _progress(job, report, done, progress)
            continue
        for attempt in range(3):
            try:
                with transaction.atomic():
                    _write_chunk(chunk, pks, plan.school_year, now)
                    _progress(job, report, done, progress)
                break
            except IntegrityError:
                # Another process took one of the logins chosen in advance (PostgreSQL;
                # SQLite's write lock rules it out). Choose again against what is there.
                if attempt == 2 or not chunk.creations:
                    raise
                taken = set(User.objects.values_list("login", flat=True))
                logins = allocate_logins_bulk(
                    ((p.first_name, p.last_name) for p in chunk.creations), taken
                )
                for person, login in zip(chunk.creations, logins, strict=True):
                    person.login = login
    with transaction.atomic():
        _write_departures(plan, acting_user)
        if plan.creations:
            # One event for the batch: the trail is for security events, and 200,000
            # identical rows would drown them; the job's report names the accounts.
            record_event(
                event_type=accounts_events.ACCOUNT_CREATED,
                actor=acting_user,
                data={
                    "count": len(plan.creations),
                    "source": "import",
                    "job": job.pk if job else None,
                },
            )
        _progress(job, report, total, progress)


class _Chunk:
    __slots__ = (
        "assignment_creations",
        "assignment_updates",
        "creations",
        "guardianship_creations",
        "updates",
    )

    def __init__(self) -> None:
        self.creations: list[imports.Person] = []
        self.updates: list[tuple[int, dict[str, Any]]] = []
        self.assignment_creations: list[tuple[str, int, str, str, int]] = []
        self.assignment_updates: list[tuple[int, str, int]] = []
        self.guardianship_creations: list[tuple[str, str, int]] = []


def _write_chunk(
    chunk: _Chunk, pks: dict[str, int], school_year: str, now: datetime.datetime
) -> None:
    adapt_date = connection.ops.adapt_datefield_value
    created = _insert_rows(
        User,
        ("login", "first_name", "last_name", "email", "birth_date", "password", "import_key"),
        (
            (
                person.login,
                person.first_name,
                person.last_name,
                person.email,
                adapt_date(person.birth_date),
                imports.unusable_password(),
                person.key,
            )
            for person in chunk.creations
        ),
        constants={"state": AccountState.INVITED, "date_joined": now},
        returning="import_key",
    )
    by_fields: dict[tuple[str, ...], list[User]] = defaultdict(list)
    for pk, changes in chunk.updates:
        user = User(pk=pk, **changes)
        by_fields[tuple(sorted(changes))].append(user)
    for fields, changed in by_fields.items():
        User.objects.bulk_update(changed, list(fields), batch_size=500)
    pks.update(created)
    _insert_rows(
        Assignment,
        ("user_id", "establishment_id", "role", "division"),
        (
            (pks[key], establishment_id, role, division)
            for key, establishment_id, role, division, _row in chunk.assignment_creations
        ),
        constants={"school_year": school_year},
    )
    if chunk.assignment_updates:
        Assignment.objects.bulk_update(
            [
                Assignment(pk=pk, division=division)
                for pk, division, _row in chunk.assignment_updates
            ],
            ["division"],
            batch_size=500,
        )
    _insert_rows(
        Guardianship,
        ("parent_id", "pupil_id"),
        (
            (pks[parent_key], pks[pupil_key])
            for parent_key, pupil_key, _row in chunk.guardianship_creations
        ),
    )


# Rows per INSERT statement: many rows per statement is what makes bulk inserts fast; the
# parameters stay far below SQLite's limit (32,766) and PostgreSQL's (65,535).
INSERT_BATCH = 500
INSERT_BATCH_POSTGRESQL = 5000


def _insert_rows(
    model: type[models.Model],
    columns: tuple[str, ...],
    rows: Iterable[tuple[Any, ...]],
    *,
    constants: dict[str, Any] | None = None,
    returning: str | None = None,
) -> dict[Any, int]:
    """INSERT many rows, ``INSERT_BATCH`` per statement, without building model instances.

    ``bulk_create`` spends most of its time preparing each value of each instance (measured:
    three quarters of an import's writes). Here, ``columns`` (attribute names) take values
    ready for the database (strings, numbers, dates adapted with ``connection.ops``); every
    other column gets ``constants`` or the field's default, prepared once. With
    ``returning``, the new primary keys are returned keyed by that column (RETURNING, which
    SQLite ≥ 3.35 and PostgreSQL both have).
    """
    opts = model._meta
    constants = constants or {}
    template = model(**constants)
    column_of = {field.attname: str(field.column) for field in opts.concrete_fields}
    fixed: list[Any] = []
    fixed_columns: list[str] = []
    for model_field in opts.concrete_fields:
        if model_field.primary_key or model_field.attname in columns:
            continue
        fixed_columns.append(column_of[model_field.attname])
        fixed.append(
            model_field.get_db_prep_save(getattr(template, model_field.attname), connection)
        )
    quote = connection.ops.quote_name
    names = [*(column_of[c] for c in columns), *fixed_columns]
    all_columns = ", ".join(quote(name) for name in names)
    tail = ""
    if returning is not None:
        tail = f" RETURNING {quote(column_of[opts.pk.attname])}, {quote(column_of[returning])}"
    # Identifiers come from the model's metadata, quoted; every value is a parameter.
    head = f"INSERT INTO {quote(opts.db_table)} ({all_columns}) "
    if connection.vendor == "postgresql":
        # One array per column (unnest): the statement stays short, so psycopg parses it
        # once; a 500-row VALUES list is parsed again in Python at every execution
        # (measured: two thirds of the writes' time).
        types = {field.attname: field.db_type(connection) for field in opts.concrete_fields}
        arrays = ", ".join(f"%s::{types[c]}[]" for c in columns)
        casts = ", ".join(
            f"%s::{types[f.attname]}"
            for f in opts.concrete_fields
            if not f.primary_key and f.attname not in columns
        )
        select = f"SELECT u.*{', ' + casts if casts else ''} FROM unnest({arrays}) AS u"  # noqa: S608
        sql = head + select + tail
        size = INSERT_BATCH_POSTGRESQL

        def statement(batch: list[tuple[Any, ...]]) -> tuple[str, list[Any]]:
            # The constants come first in the statement, then one array per column.
            return sql, [*fixed, *(list(values) for values in zip(*batch, strict=True))]

    else:
        one = "(" + ", ".join(["%s"] * len(names)) + ")"
        size = INSERT_BATCH

        def statement(batch: list[tuple[Any, ...]]) -> tuple[str, list[Any]]:
            values = ", ".join([one] * len(batch))
            return head + "VALUES " + values + tail, [v for row in batch for v in (*row, *fixed)]

    created: dict[Any, int] = {}
    batch: list[tuple[Any, ...]] = []

    def flush() -> None:
        with connection.cursor() as cursor:
            cursor.execute(*statement(batch))
            if returning is not None:
                created.update((key, pk) for pk, key in cursor.fetchall())
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) == size:
            flush()
    if batch:
        flush()
    return created


def _write_departures(plan: imports.Plan, acting_user: User | None) -> None:
    for pks in _batches(plan.assignment_removals):
        Assignment.objects.filter(pk__in=pks).delete()
    for pks in _batches(plan.guardianship_removals):
        Guardianship.objects.filter(pk__in=pks).delete()
    for user in User.objects.filter(pk__in=plan.reactivations):
        state = AccountState.ACTIVE if user.has_usable_password() else AccountState.INVITED
        change_account_state(acting_user=acting_user, user=user, state=state)
        user.archived_at = None
        user.save(update_fields=["archived_at"])
    for user in User.objects.filter(pk__in=plan.to_archive).order_by("pk"):
        archive_account(acting_user=acting_user, user=user)


def _batches(items: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _progress(
    job: ImportJob | None, report: dict[str, Any] | None, done: int, progress: Progress | None
) -> None:
    if job is not None:
        job.processed_rows = done
        fields: dict[str, Any] = {"processed_rows": done}
        if report is not None:
            report["heartbeat"] = timezone.now().isoformat()
            fields["report"] = report
        ImportJob.objects.filter(pk=job.pk).update(**fields)
    if progress is not None:
        progress("ecriture", done, job.total_rows if job else done)
