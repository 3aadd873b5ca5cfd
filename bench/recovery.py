"""Forgotten password: does a request take as long for an unknown account as for a real one?

Run: ``.venv/bin/python bench/recovery.py --runs 200``. A temporary SQLite database is
migrated and the demo blueprint loaded; Léa Martin gets a confirmed recovery address and phone.
Then POST ``/mot-de-passe-oublie/`` is timed in-process (Django test client, the database task
backend: the code is issued and sent later by the worker, as in production) for a real account
and for an unknown identifier, by e-mail and by SMS, interleaved so that drifts hit both alike.
Prints the median and p90 of each and the gap between real and unknown; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO_BLUEPRINT = REPO / "blueprints" / "demo.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="convergence-bench-") as var_dir:
        os.environ["CONVERGENCE_VAR_DIR"] = var_dir
        os.environ["DJANGO_SETTINGS_MODULE"] = "convergence.settings"
        # Rate limits would stop the bench long before the end: lift them.
        os.environ["CONVERGENCE_RECOVERY_IDENTIFIER_LIMIT"] = "100000000"
        os.environ["CONVERGENCE_RECOVERY_SEND_LIMIT"] = "100000000"
        os.environ["CONVERGENCE_RECOVERY_IP_LIMIT"] = "100000000"
        os.environ.setdefault("ALLOWED_HOSTS", "testserver")
        sys.path[:0] = [str(REPO / "src"), str(REPO)]
        import django

        django.setup()
        run(options.runs)


def run(runs: int) -> None:
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from convergence.accounts.models import User

    quiet = io.StringIO()
    call_command("migrate", verbosity=0, stdout=quiet)
    call_command("load_blueprint", str(DEMO_BLUEPRINT), quiet_notes=True, stdout=quiet)
    now = timezone.now()
    User.objects.filter(login="lmartin").update(
        recovery_email="lea.secours@exemple.fr",
        recovery_email_confirmed_at=now,
        recovery_phone="+33612345678",
        recovery_phone_confirmed_at=now,
    )
    cases = {
        "courriel, compte réel": ("lmartin", "email"),
        "courriel, compte inconnu": ("personne-inconnue", "email"),
        "SMS, compte réel": ("lmartin", "sms"),
        "SMS, compte inconnu": ("personne-inconnue", "sms"),
    }
    client = Client()
    timings: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(runs):
        for label, (identifier, channel) in cases.items():
            start = time.perf_counter()
            response = client.post(
                "/mot-de-passe-oublie/", {"identifier": identifier, "channel": channel}
            )
            timings[label].append((time.perf_counter() - start) * 1000)
            assert response.status_code == 302, response.status_code
    print(f"POST /mot-de-passe-oublie/, {runs} runs each, in-process (ms)")
    print(f"{'case':40} {'median':>8} {'p90':>8}")
    medians = {}
    for label, values in timings.items():
        values.sort()
        medians[label] = statistics.median(values)
        p90 = values[int(len(values) * 0.9) - 1]
        print(f"{label:40} {medians[label]:8.2f} {p90:8.2f}")
    for channel in ("courriel", "SMS"):
        real = next(v for k, v in medians.items() if k.startswith(channel) and "réel" in k)
        unknown = next(v for k, v in medians.items() if k.startswith(channel) and "inconnu" in k)
        print(f"gap {channel}: real - unknown = {real - unknown:+.2f} ms")


if __name__ == "__main__":
    main()
