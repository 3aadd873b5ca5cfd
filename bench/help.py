"""Help pages and search, in process (issue 14, item 8).

1. A guide page and the help home served per second by Django's test client to a fresh
   browser, against the bare view (``bench/urls.py``) in the same run: target ≥ 0.7 x the bare
   view; with the guides of content/guides/, then with 500 generated ones.
2. The search's p95 over 500 generated guides (SQLite FTS5 by default, PostgreSQL with
   ``DATABASE_URL``): target ≤ 20 ms.

Run: ``.venv/bin/python bench/help.py`` (a throw-away SQLite database and guides folder).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
WORK = Path(tempfile.mkdtemp(prefix="bench-help-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{WORK / 'db.sqlite3'}")
os.environ["CONVERGENCE_HELP_GUIDES_DIR"] = str(WORK / "guides")

WORDS = [
    "connexion",
    "compte",
    "mot",
    "passe",
    "élève",
    "parent",
    "enseignant",
    "messagerie",
    "téléphone",
    "code",
    "sécurité",
    "établissement",
    "service",
    "activation",
    "lettre",
    "identifiant",
    "navigateur",
    "session",
    "appareil",
    "données",
    "hameçonnage",
    "adresse",
    "officielle",
    "panne",
    "référent",
    "classe",
    "collège",
    "lycée",
    "famille",
    "réseau",
]


def generate(count: int) -> None:
    folder = WORK / "guides"
    folder.mkdir()
    rng = random.Random(14)
    for index in range(count):
        title = " ".join(rng.choices(WORDS, k=4)).capitalize()
        body = "\n\n".join(
            f"## {' '.join(rng.choices(WORDS, k=3))}\n" + " ".join(rng.choices(WORDS, k=80))
            for _ in range(5)
        )
        (folder / f"guide-{index:03d}.md").write_text(
            f"---\ntitle: {title}\nsummary: {' '.join(rng.choices(WORDS, k=12))}\n"
            f"profiles: [{rng.choice(['eleve', 'parent', 'personnel', ''])}]\n"
            f"last_reviewed: 2026-12-05\n---\n{body}\n",
            encoding="utf-8",
        )


def per_second(client: object, path: str, seconds: float = 0.5) -> float:
    get = client.get  # type: ignore[attr-defined]
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        get(path)
        count += 1
    return count / (time.perf_counter() - start)


def compare(client: object, path: str, rounds: int = 8) -> tuple[float, float, float]:
    """The page and the bare view in alternation (the machine is shared): medians of the
    rates and of the ratio of each round."""
    get = client.get  # type: ignore[attr-defined]
    for _ in range(20):
        assert get(path).status_code == 200, path
        get("/bench/bare/")
    pages, bares, ratios = [], [], []
    for _ in range(rounds):
        bare = per_second(client, "/bench/bare/")
        page = per_second(client, path)
        pages.append(page)
        bares.append(bare)
        ratios.append(page / bare)
    return statistics.median(pages), statistics.median(bares), statistics.median(ratios)


def main() -> None:
    generate(500)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client, override_settings

    call_command("migrate", verbosity=0)
    from convergence.core.models import Academie
    from convergence.help import guides, search

    # As in any deployment, the académie's row exists (and is kept in the cache).
    Academie.objects.create(
        name="Académie de Besançon", official_host="testserver", mail_domain="ac-besancon.fr"
    )

    started = time.perf_counter()
    indexed = search.rebuild()
    print(f"Index: {indexed} guides in {time.perf_counter() - started:.2f} s")
    client = Client()
    real = ROOT / "content" / "guides"
    with override_settings(HELP_GUIDES_DIR=real):
        guides.forget()
        first = guides.collection().ordered()[0].slug
        count = len(guides.collection().guides)
        print(f"content/guides ({count} guides), page / bare view (median of rounds):")
        for name, path in (("guide page", f"/aide/guides/{first}/"), ("help home", "/aide/")):
            page, bare, ratio = compare(client, path)
            print(f"  {name:11} {page:6.0f} /s, bare {bare:6.0f} /s: {ratio:.2f} x")
    guides.forget()
    print("500 generated guides:")
    for name, path in (("guide page", "/aide/guides/guide-007/"), ("help home", "/aide/")):
        page, bare, ratio = compare(client, path)
        print(f"  {name:11} {page:6.0f} /s, bare {bare:6.0f} /s: {ratio:.2f} x")
    rng = random.Random(5)
    queries = [" ".join(rng.choices(WORDS, k=rng.choice([1, 2]))) for _ in range(400)]
    for query in queries[:20]:
        search.search(query)
    timings = []
    for query in queries:
        start = time.perf_counter()
        search.search(query)
        timings.append((time.perf_counter() - start) * 1000)
    p50 = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1]
    print(f"search over 500 guides: p50 {p50:.1f} ms, p95 {p95:.1f} ms (target ≤ 20 ms)")


if __name__ == "__main__":
    main()
