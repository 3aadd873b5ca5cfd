"""Settings of the benchmark server: the application's own, plus a bare view (bench/urls.py).

Nothing else differs, so the figures are the application's. Used only by bench/run.py.
"""

from convergence.settings import *  # noqa: F403 — the whole point: the same settings

ROOT_URLCONF = "bench.urls"
