"""What the sign-in throttle costs next to the password hash it guards.

Run: ``.venv/bin/python bench/throttle.py`` (local-memory cache, as the embedded mode), and
``.venv/bin/python bench/throttle.py --redis-url redis://127.0.0.1:6379/14`` (Redis, as in
production). In one process, interleaved so that drifts hit every figure alike, it times:

* ``t_hash``: one Argon2id verification with the production parameters;
* a judged attempt that succeeds: ``throttle.begin`` then ``succeeded`` (a right password);
* a judged attempt that fails: ``begin`` then ``failed``, with the spraying detector;
* a refused attempt: ``begin`` on a counter past its free failures.

Prints the medians and each one as a share of ``t_hash``; asserts nothing. The database is not
touched: the throttle lives in the cache.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--redis-url", default="", help="Measure on Redis instead of locmem.")
    options = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "convergence.settings"
    os.environ["REDIS_URL"] = options.redis_url
    os.environ.setdefault("CONVERGENCE_CACHE_PREFIX", "bench-throttle")
    sys.path[:0] = [str(REPO / "src"), str(REPO)]
    import django

    django.setup()
    run(options.runs, "Redis" if options.redis_url else "local-memory cache")


def run(runs: int, where: str) -> None:
    from django.conf import settings
    from django.contrib.auth.hashers import check_password, make_password
    from django.core.cache import cache

    from convergence.accounts import throttle

    cache.clear()
    encoded = make_password("Girafe-Orange-Velo-71")
    samples: dict[str, list[float]] = {"hash": [], "success": [], "failure": [], "refusal": []}
    for n in range(runs):
        started = time.perf_counter()
        check_password("Girafe-Orange-Velo-71", encoded)
        samples["hash"].append(time.perf_counter() - started)

        started = time.perf_counter()
        _verdict, attempt = throttle.begin(throttle.PASSWORD, account=f"user:{n}", ip="192.0.2.25")
        assert attempt is not None
        attempt.succeeded()
        samples["success"].append(time.perf_counter() - started)

        started = time.perf_counter()
        _verdict, attempt = throttle.begin(
            throttle.PASSWORD, account=f"user:{n}", ip=f"198.51.{n % 200}.7", password=f"x{n}"
        )
        assert attempt is not None
        attempt.failed(password=f"x{n}")
        samples["failure"].append(time.perf_counter() - started)

    # An account past its free failures from one address, the last failure just now: every
    # further attempt within the next four minutes is refused. The failures are replayed on a
    # clock that waits out each delay.
    account, ip, free = "user:refused", "203.0.113.9", settings.THROTTLE_PAIR_FREE
    clock = [time.time() - sum(throttle.delay_for(k, free) for k in range(free + 9))]
    real_time = throttle.time.time
    throttle.time.time = lambda: clock[0]  # type: ignore[assignment]
    try:
        for n in range(free + 9):
            _verdict, attempt = throttle.begin(throttle.PASSWORD, account=account, ip=ip)
            assert attempt is not None
            attempt.failed()
            clock[0] += throttle.delay_for(n + 1, free)
    finally:
        throttle.time.time = real_time  # type: ignore[method-assign]
    for _ in range(runs):
        started = time.perf_counter()
        verdict, attempt = throttle.begin(throttle.PASSWORD, account=account, ip=ip)
        assert attempt is None and not verdict.allowed
        samples["refusal"].append(time.perf_counter() - started)
    cache.clear()

    t_hash = statistics.median(samples["hash"])
    print(f"Throttle cost on the {where}, {runs} runs (medians)")
    print(f"  t_hash (Argon2id, production parameters): {t_hash * 1000:.2f} ms")
    for name, label in (
        ("success", "judged attempt, right password"),
        ("failure", "judged attempt, wrong password (with the detector)"),
        ("refusal", "refused attempt (no hash computed)"),
    ):
        median = statistics.median(samples[name])
        print(f"  {label}: {median * 1000:.3f} ms = {median / t_hash:.3f} of t_hash")


if __name__ == "__main__":
    main()
