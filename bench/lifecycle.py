"""Rentrée and purges at scale: closing a school year with N leaving pupils, purging them.

Run: ``.venv/bin/python bench/lifecycle.py --pupils 20000``. A temporary SQLite database
(or ``--database-url``, whose name must contain ``bench``; it is emptied) is migrated, the demo
blueprint loaded and N active pupils seeded; nobody has a role in the next year, so every
pupil leaves. Measured: the page's preview (dry run), the closing (archiving every leaver, one
transaction), the purge three months later, and "Mes données" of one person. Asserts nothing.
"""

from __future__ import annotations

import datetime
import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import standalone

REPO = standalone.REPO
DEMO_BLUEPRINT = REPO / "blueprints" / "demo.yaml"


def timed(label: str, results: list[tuple[str, float, float]], function, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run and record wall time and this process's CPU time (SQLite works in-process, so the
    CPU time is the cost even when other processes share the cores)."""
    start, cpu = time.perf_counter(), time.process_time()
    value = function(*args, **kwargs)
    results.append((label, time.perf_counter() - start, time.process_time() - cpu))
    return value


def run(pupils: int, *, flush: bool) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from convergence.accounts.models import User, current_school_year
    from convergence.core.personal_data import collect_personal_data
    from convergence.provisioning import actions as provisioning_actions

    quiet = io.StringIO()
    call_command("migrate", verbosity=0, stdout=quiet)
    if flush:
        call_command("flush", interactive=False, verbosity=0, stdout=quiet)
    call_command("load_blueprint", str(DEMO_BLUEPRINT), quiet_notes=True, stdout=quiet)
    call_command("seed", pupils=pupils, stdout=quiet)
    dsi = User.objects.get(login="ifontaine")
    year = current_school_year()
    results: list[tuple[str, float, float]] = []

    lea = User.objects.get(login="lmartin")
    timed("Mes données (collect_personal_data, Léa)", results, collect_personal_data, lea)
    preview = timed(
        "aperçu de la clôture (simulation)",
        results,
        provisioning_actions.preview_school_year_closing,
        acting_user=dsi,
        year=year,
    )
    closing = timed(
        "clôture de l'année (archivage)",
        results,
        provisioning_actions.close_school_year,
        acting_user=dsi,
        year=year,
    )
    later = timezone.now() + datetime.timedelta(days=93)
    purged = timed(
        "purge des comptes partis (+93 jours)",
        results,
        provisioning_actions.purge_departed_accounts,
        now=later,
    )
    print(f"Base : {connection.vendor} ; élèves créés : {pupils} ; année {year}")
    print(f"Aperçu : {preview.leavers} ; archivés : {closing.archived} ; purgés : {purged}")
    print(f"Charge de la machine (1 min) : {os.getloadavg()[0]:.1f} sur {os.cpu_count()} cœurs")
    print(f"{'mesure':<45} {'s (horloge)':>12} {'s (CPU)':>10}")
    for label, elapsed, cpu in results:
        print(f"{label:<45} {elapsed:>12.2f} {cpu:>10.2f}")
    if closing.archived:
        for label, elapsed, cpu in results[2:]:
            per, per_cpu = 1000 * elapsed / closing.archived, 1000 * cpu / closing.archived
            print(f"{label} : {per:.2f} ms par compte ({per_cpu:.2f} ms de CPU)")


if __name__ == "__main__":
    standalone.main(__doc__, 20000, run)
