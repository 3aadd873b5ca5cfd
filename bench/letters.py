"""Activation letters at scale: one batch for a whole collège of N invited pupils.

Run: ``.venv/bin/python bench/letters.py --pupils 1200``. A temporary SQLite database (or
``--database-url``, whose name must contain ``bench``; it is emptied) is migrated, the demo
blueprint loaded and N invited pupils seeded in Collège Victor Hugo. Measured: the batch
(codes issued and audited per person, PDF drawn with a QR code per page), letters per second
and the PDF's size. Asserts nothing.
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import standalone

REPO = standalone.REPO
DEMO_BLUEPRINT = REPO / "blueprints" / "demo.yaml"
COLLEGE = "0250013D"


def run(pupils: int, *, flush: bool) -> None:
    from django.core.management import call_command
    from django.db import connection

    from convergence.accounts.models import AccountState, Role, User
    from convergence.core.models import Establishment
    from convergence.provisioning import letters
    from convergence.provisioning.models import LetterAudience, LetterBatch

    quiet = io.StringIO()
    call_command("migrate", verbosity=0, stdout=quiet)
    if flush:
        call_command("flush", interactive=False, verbosity=0, stdout=quiet)
    call_command("load_blueprint", str(DEMO_BLUEPRINT), quiet_notes=True, stdout=quiet)
    call_command("seed", pupils=pupils, establishments=[COLLEGE], stdout=quiet)
    User.objects.filter(
        assignments__role=Role.ELEVE, assignments__establishment__uai=COLLEGE
    ).update(state=AccountState.INVITED)
    referent = User.objects.get(login="jmoreau")
    batch = LetterBatch.objects.create(
        establishment=Establishment.objects.get(uai=COLLEGE),
        audience=LetterAudience.ELEVES,
        requested_by=referent,
    )
    start, cpu = time.perf_counter(), time.process_time()
    batch = letters.build_letter_batch(batch.pk)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    path = letters.batch_file(batch)
    size = path.stat().st_size if path else 0
    print(f"Base : {connection.vendor} ; état du lot : {batch.state} ; lettres : {batch.done}")
    print(f"Charge de la machine (1 min) : {os.getloadavg()[0]:.1f} sur {os.cpu_count()} cœurs")
    print(f"lot complet : {elapsed:.2f} s (horloge), {cpu:.2f} s (CPU)")
    if batch.done:
        print(
            f"par lettre : {1000 * elapsed / batch.done:.1f} ms ({1000 * cpu / batch.done:.1f} ms"
            f" de CPU) ; {batch.done / elapsed:.0f} lettres/s"
        )
        print(f"PDF : {size / 1e6:.2f} Mo, {size / batch.done / 1000:.1f} ko par page")


if __name__ == "__main__":
    standalone.main(__doc__, 1200, run)
