"""Bench of the account imports: ``.venv/bin/python bench/imports.py [--rows 200000]``.

Generates a realistic SIECLE-like file (pupils with one or two guardians, brothers and sisters
sharing theirs, French names with accents and particles) spread over the demo's schools and
extra generated establishments, then, against a bench database of its own (SQLite in a
temporary directory by default, or ``--database-url`` whose name contains ``bench``):

1. the dry run (read, check, plan),
2. the real import (the same, then the writes, chunk by chunk),
3. the same file again, dry run and import: both must find nothing to do (idempotence).

Prints seconds and rows per second for each, and the command to run it again. It asserts
nothing about time; docs/performance.md ("Imports de comptes") records the figures.
"""

from __future__ import annotations

import argparse
import datetime
import random
import shlex
import shutil
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import (
    DEMO_BLUEPRINT,
    background_load,
    configure_environment,
    cores,
    cpu_model,
    french,
)

DEPARTMENTS = ("25", "39", "70", "90")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Banc des imports de comptes (affiche des chiffres, n'affirme rien).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=200_000, help="Élèves dans le fichier.")
    parser.add_argument(
        "--establishments",
        type=int,
        default=150,
        help="Établissements créés en plus de ceux de la démonstration.",
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="Base du banc (son nom doit contenir « bench » ; elle est vidée) ; défaut : "
        "SQLite dans un répertoire temporaire.",
    )
    parser.add_argument("--random-seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="Garder le répertoire temporaire.")
    # bench.run's configure_environment reads these.
    parser.set_defaults(redis_url="", what_if_conn_max_age=None)
    return parser.parse_args()


def prepare_database(extra: int, *, flush: bool) -> list[tuple[str, str]]:
    """Migrate, load the demo, add ``extra`` establishments; return (UAI, kind) of schools."""
    from django.core.management import call_command

    from convergence.core.models import Department, Establishment, EstablishmentKind
    from convergence.core.uai import check_letter

    quiet = StringIO()
    call_command("migrate", verbosity=0, stdout=quiet)
    if flush:
        call_command("flush", interactive=False, verbosity=0, stdout=quiet)
    call_command("load_blueprint", str(DEMO_BLUEPRINT), quiet_notes=True, stdout=quiet)
    departments = {d.code: d for d in Department.objects.all()}
    kinds = [EstablishmentKind.COLLEGE, EstablishmentKind.COLLEGE, EstablishmentKind.LYCEE]
    created = []
    for index in range(extra):
        code = DEPARTMENTS[index % len(DEPARTMENTS)]
        digits = f"0{code}{8000 + index:04d}"
        kind = kinds[index % len(kinds)]
        created.append(
            Establishment(
                uai=digits + check_letter(digits),
                name=f"Établissement de banc n° {index + 1}",
                kind=kind,
                department=departments[code],
            )
        )
    Establishment.objects.bulk_create(created, ignore_conflicts=True)
    schools = Establishment.objects.filter(
        kind__in=[
            EstablishmentKind.ECOLE,
            EstablishmentKind.COLLEGE,
            EstablishmentKind.LYCEE,
            EstablishmentKind.LYCEE_PRO,
        ]
    )
    return list(schools.order_by("uai").values_list("uai", "kind"))


def generate(path: Path, rows: int, schools: list[tuple[str, str]], seed: int) -> int:
    """Write a SIECLE-like file of ``rows`` pupils; return its size in bytes."""
    from convergence.accounts.models import current_school_year
    from convergence.provisioning.imports import SIECLE_COLUMNS
    from demo.management.commands.seed import FIRST_NAMES, LAST_NAMES, LEVELS

    rng = random.Random(seed)
    first_year = int(current_school_year()[:4])
    lines = [";".join(SIECLE_COLUMNS)]
    guardian_number = 0
    family: list[str] = []
    pupil = 0
    while pupil < rows:
        last_name = rng.choice(LAST_NAMES)
        # About one family in four has two children in the file, sometimes three.
        children = 1 + (rng.random() < 0.25) + (rng.random() < 0.05)
        family = []
        for _slot in range(1 if rng.random() < 0.15 else 2):
            guardian_number += 1
            first_name = rng.choice(FIRST_NAMES)
            email = (
                f"resp{guardian_number}@exemple.fr" if rng.random() < 0.7 else ""
            )  # unique, as the column must be
            family += [f"{8_000_000 + guardian_number}", last_name, first_name, email]
        family += [""] * (8 - len(family))
        for _child in range(children):
            if pupil >= rows:
                break
            pupil += 1
            uai, kind = rng.choice(schools)
            level, age, classes = rng.choice(LEVELS[kind])
            name = rng.choice(classes)
            division = f"{level} {name}" if name else level
            birth = datetime.date(first_year - age, 1, 1) + datetime.timedelta(
                days=rng.randrange(365)
            )
            lines.append(
                ";".join(
                    [
                        uai,
                        f"{1_000_000 + pupil}",
                        last_name,
                        rng.choice(FIRST_NAMES),
                        birth.strftime("%d/%m/%Y"),
                        division,
                        *family,
                    ]
                )
            )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path.stat().st_size


def measure(path: Path, *, apply: bool) -> dict[str, Any]:
    """One dry run (and with ``apply`` its real run) of the file, timed."""
    from convergence.provisioning.actions import imports as actions
    from convergence.provisioning.models import JobState

    figures: dict[str, Any] = {}
    started = time.perf_counter()
    with path.open("rb") as source:
        job = actions.create_import_job(
            acting_user=None,
            kind="siecle",
            content=iter(lambda: source.read(1 << 20), b""),
            file_name=path.name,
            enqueue=False,
        )
    job = actions.execute_import_job(job.pk)
    figures["dry_seconds"] = time.perf_counter() - started
    assert job.state == JobState.DONE and not job.report.get("error_count"), job.report
    figures["dry_counts"] = job.report["counts"]
    figures["rows"] = job.total_rows
    if apply:
        started = time.perf_counter()
        run = actions.apply_import_job(acting_user=None, job=job, enqueue=False)
        run = actions.execute_import_job(run.pk)
        figures["apply_seconds"] = time.perf_counter() - started
        assert run.state == JobState.DONE, run.report
        figures["apply_counts"] = run.report["counts"]
        figures["check_seconds"] = run.report.get("check_seconds")
        figures["write_seconds"] = run.report.get("write_seconds")
    return figures


def line(label: str, seconds: float, rows: int) -> str:
    return f"| {label} | {french(seconds)} s | {french(rows / seconds, 0)} lignes/s |"


def changes(counts: dict[str, Any]) -> int:
    return sum(
        value
        for name, value in counts.items()
        if isinstance(value, int) and name not in {"rows", "people"}
    )


def main() -> None:
    options = parse_arguments()
    began = time.monotonic()
    var_dir = Path(tempfile.mkdtemp(prefix="convergence-bench-imports-"))
    try:
        configure_environment(options, var_dir)
        import django

        django.setup()
        from django.conf import settings
        from django.utils import timezone

        from convergence.accounts.models import Assignment, Guardianship, User

        busy = background_load()
        print("Préparation de la base du banc d'essai…", flush=True)
        schools = prepare_database(options.establishments, flush=bool(options.database_url))
        path = var_dir / "siecle-banc.csv"
        size = generate(path, options.rows, schools, options.random_seed)
        print(
            f"Fichier : {french(options.rows, 0)} élèves, {french(size / 1e6)} Mo, "
            f"{len(schools)} établissements.",
            flush=True,
        )
        print("1. Simulation…", flush=True)
        first = measure(path, apply=True)
        print("2. Même fichier, de nouveau…", flush=True)
        again = measure(path, apply=True)
        rows = first["rows"]
        database = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[1]
        print()
        print(
            f"Banc des imports du {timezone.localtime():%Y-%m-%d %H:%M} — {cores()} cœurs "
            f"({cpu_model()}), occupée à {busy:.0%} avant la mesure — base {database}"
        )
        counts = first["apply_counts"]
        print(
            f"Comptes créés : {french(counts['creations'], 0)} "
            f"({counts['creations_by_kind']}), "
            f"affectations {french(counts['assignments_added'], 0)}, "
            f"rattachements {french(counts['guardianships_added'], 0)} ; en base : "
            f"{french(User.objects.count(), 0)} comptes, "
            f"{french(Assignment.objects.count(), 0)} affectations, "
            f"{french(Guardianship.objects.count(), 0)} rattachements."
        )
        print("| étape | durée | débit |")
        print("| --- | --- | --- |")
        print(line("simulation (lecture, contrôles, plan)", first["dry_seconds"], rows))
        print(line("import réel (contrôles + écritures)", first["apply_seconds"], rows))
        print(
            f"|   dont contrôles et plan / écritures | {french(first['check_seconds'])} s / "
            f"{french(first['write_seconds'])} s | |"
        )
        print(line("réimport : simulation", again["dry_seconds"], rows))
        print(line("réimport : import réel", again["apply_seconds"], rows))
        print(
            f"Réimport : {changes(again['dry_counts'])} changement prévu, "
            f"{changes(again['apply_counts'])} fait (idempotence attendue : 0 et 0)."
        )
        print(
            "Relancer : "
            + shlex.join([".venv/bin/python", "bench/imports.py", *sys.argv[1:]])
            + f"  (durée totale {french(time.monotonic() - began, 0)} s)"
        )
    finally:
        if options.keep:
            print(f"Répertoire conservé : {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
