"""One announcement to N people: the fan-out's time and the rows it writes.

Run: ``.venv/bin/python bench/announcement_fanout.py --people 50000``. A temporary SQLite
database (or ``--database-url``, whose name must contain ``bench``; it is emptied) is
migrated, the demo blueprint loaded and N active pupils seeded in Collège Victor Hugo
(``manage.py seed``, bulk inserts). The demo's head of school writes one announcement to
the whole collège and publishes it; the fan-out (``announcement_delivery``) then runs here,
synchronously, as the worker would. Measured: the publication (what the author waits for),
the fan-out (wall clock and CPU), recipients and notifications written, rows per second.
Asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO_BLUEPRINT = REPO / "blueprints" / "demo.yaml"
COLLEGE = "0250013D"


def run(people: int, *, flush: bool) -> None:
    from django.core.management import call_command
    from django.db import connection

    from convergence.accounts.models import User
    from convergence.core.models import Establishment
    from convergence.notifications.models import Notification
    from convergence.portal import announcement_actions, announcement_delivery
    from convergence.portal.models import AnnouncementRecipient

    quiet = io.StringIO()
    call_command("migrate", verbosity=0, stdout=quiet)
    if flush:
        call_command("flush", interactive=False, verbosity=0, stdout=quiet)
    call_command("load_blueprint", str(DEMO_BLUEPRINT), quiet_notes=True, stdout=quiet)
    started = time.perf_counter()
    call_command("seed", pupils=people, establishments=[COLLEGE], stdout=quiet)
    seeded = time.perf_counter() - started
    head = User.objects.get(login="pgirard")
    draft = announcement_actions.Draft(
        title="Réunion de rentrée",
        body="Réunion de rentrée **jeudi à 18 h** au gymnase.",
        establishment=Establishment.objects.get(uai=COLLEGE),
        requires_ack=True,
    )
    notifications_before = Notification.objects.count()

    start = time.perf_counter()
    announcement = announcement_actions.create_announcement(acting_user=head, draft=draft)
    announcement_actions.publish_announcement(acting_user=head, announcement=announcement)
    published = time.perf_counter() - start

    start, cpu = time.perf_counter(), time.process_time()
    recipients = announcement_delivery.fan_out_announcement(announcement_pk=announcement.pk)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu

    rows = AnnouncementRecipient.objects.filter(announcement=announcement).count()
    notifications = Notification.objects.count() - notifications_before
    written = rows + notifications
    print(f"Base : {connection.vendor} ; élèves créés : {people} en {seeded:.1f} s")
    print(f"Charge de la machine (1 min) : {os.getloadavg()[0]:.1f} sur {os.cpu_count()} cœurs")
    print(f"publication (ce qu'attend l'auteur) : {1000 * published:.0f} ms")
    print(f"envoi : {elapsed:.2f} s (horloge), {cpu:.2f} s (CPU)")
    print(
        f"lignes écrites : {written} ({rows} destinataires, {notifications} notifications) ;"
        f" {written / elapsed:.0f} lignes/s"
    )
    if recipients:
        print(f"par destinataire : {1000 * elapsed / recipients:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--database-url", default="")
    options = parser.parse_args()
    if options.database_url and "bench" not in options.database_url:
        sys.exit("--database-url: the database name must contain 'bench' (it is emptied).")
    with tempfile.TemporaryDirectory(prefix="convergence-bench-") as var_dir:
        os.environ["CONVERGENCE_VAR_DIR"] = var_dir
        os.environ["DJANGO_SETTINGS_MODULE"] = "convergence.settings"
        if options.database_url:
            os.environ["DATABASE_URL"] = options.database_url
        sys.path[:0] = [str(REPO / "src"), str(REPO)]
        import django

        django.setup()
        run(options.people, flush=bool(options.database_url))


if __name__ == "__main__":
    main()
