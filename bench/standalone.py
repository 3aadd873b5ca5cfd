"""Entry point shared by the benches that run Django in-process on a throwaway database.

``--pupils N`` and ``--database-url`` (whose name must contain ``bench``: it is emptied);
without it, SQLite in a temporary directory that also holds ``CONVERGENCE_VAR_DIR``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(description: str | None, default_pupils: int, run: Callable[..., None]) -> None:
    """Parse the common options, set up Django, then call ``run(pupils, flush=...)``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--pupils", type=int, default=default_pupils)
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
        run(options.pupils, flush=bool(options.database_url))
