"""Settings of the benchmark server: the application's own, plus a bare view (bench/urls.py).

Nothing else differs, so the figures are the application's — unless bench/run.py is asked
for a what-if experiment (``--what-if-conn-max-age``), which it then prints in its report.
"""

import os

from convergence.settings import *  # noqa: F403 — the whole point: the same settings
from convergence.settings import DATABASES

ROOT_URLCONF = "bench.urls"

if os.environ.get("BENCH_CONN_MAX_AGE"):
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ["BENCH_CONN_MAX_AGE"])
