"""Admission control at the peak, on the production shape (deploy/prodlike.py).

nginx → 2 gunicorn processes x 4 threads → PostgreSQL + Redis (throw-away servers of the
bench's own), the RQ worker and the scheduler. Léa Martin's dashboard is requested:

1. closed loop, 16 at once: the capacity C (dashboards served per second);
2. open loop at 3 x C for 60 s (each latency counted from the request's scheduled time),
   while the sign-in page is requested 5 times a second beside it;
3. open loop at C / 2 for 15 s right after: the recovery.

With ``--compare``, the same overload is run a second time with admission control off (no
nginx limit, no wait limit in the application) to show what it buys. Prints a "Cibles" table:
p99 of served requests ≤ 2 s, refusals answered within 50 ms, no HTTP 500, recovery at once.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.prodlike import Postgres, ProdLike, Redis  # noqa: E402

LOADGEN = ROOT / "bench" / "loadgen.py"
LEA = ("lmartin", "Girafe-Orange-Velo-71")


def session_cookie(shape: ProdLike) -> str:
    browser = shape.signed_in(*LEA)
    return f"convergence-session={browser.cookies['convergence-session']}"


def loadgen(port: int, *arguments: str, seconds: float) -> subprocess.Popen[str]:
    command = [sys.executable, str(LOADGEN), "get", "--port", str(port), *arguments]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def result_of(process: subprocess.Popen[str], seconds: float) -> dict[str, Any]:
    out, _ = process.communicate(timeout=seconds + 120)
    parsed: dict[str, Any] = json.loads(out)
    return parsed


def overload(shape: ProdLike, cookie: str, capacity: float, seconds: float) -> dict[str, Any]:
    """3 x capacity on the dashboard, the sign-in page 5 times a second beside it, then
    capacity / 2 for the recovery."""
    offered = 3 * capacity
    dashboard = loadgen(
        shape.port,
        *("--path", "/", "--cookie", cookie, "--rate", f"{offered:.1f}"),
        *("--concurrency", "128", "--warmup", "0", "--duration", str(seconds)),
        seconds=seconds,
    )
    sign_in = loadgen(
        shape.port,
        *("--path", "/connexion/", "--rate", "5", "--concurrency", "8"),
        *("--warmup", "0", "--duration", str(seconds)),
        seconds=seconds,
    )
    peak = result_of(dashboard, seconds)
    page = result_of(sign_in, seconds)
    recovery = result_of(
        loadgen(
            shape.port,
            *("--path", "/", "--cookie", cookie, "--rate", f"{capacity / 2:.1f}"),
            *("--concurrency", "32", "--warmup", "0", "--duration", "15"),
            seconds=15,
        ),
        15,
    )
    return {"offered": offered, "peak": peak, "sign_in": page, "recovery": recovery}


def measure(*, admission: bool, seconds: float) -> dict[str, Any]:
    postgres, redis = Postgres.running(), Redis()
    redis.start()
    var_dir = Path(tempfile.mkdtemp(prefix="convergence-bench-admission-"))
    extra = {} if admission else {"CONVERGENCE_ADMISSION_MAX_WAIT_MS": "0"}
    shape = ProdLike(
        database_url=postgres.url(),
        redis_url=redis.url(),
        var_dir=var_dir,
        processes=2,
        threads=4,
        admitted=None if admission else 0,
        extra_env=extra,
    )
    try:
        shape.prepare()
        with shape:
            shape.start()
            cookie = session_cookie(shape)
            capacity = result_of(
                loadgen(
                    shape.port,
                    *("--path", "/", "--cookie", cookie, "--concurrency", "16"),
                    *("--warmup", "3", "--duration", "15"),
                    seconds=18,
                ),
                18,
            )
            figures = overload(shape, cookie, capacity["rate"], seconds)
            figures["capacity"] = capacity
            return figures
    finally:
        postgres.remove()
        redis.remove()


def outcome(result: dict[str, Any], status: str) -> dict[str, float]:
    found: dict[str, float] = result["latency_by_outcome_ms"].get(status, {})
    return found


def errors_500(result: dict[str, Any]) -> int:
    return sum(count for name, count in result["outcomes"].items() if name.startswith("5")) - (
        result["outcomes"].get("503", 0)
    )


def line(label: str, result: dict[str, Any]) -> str:
    served = outcome(result, "200")
    refused = outcome(result, "503")
    total = sum(result["outcomes"].values())
    total += result["not_sent"]
    return (
        f"| {label} | {total / result['window']:.0f}/s | {result['rate']:.0f}/s | "
        f"{served.get('p50', 0):.0f} / {served.get('p99', 0):.0f} ms | "
        f"{result['outcomes'].get('503', 0)} | {refused.get('p99_sent', 0):.1f} ms | "
        f"{errors_500(result)} | {json.dumps(result['outcomes'])}, "
        f"{result['not_sent']} jamais envoyées (générateur bloqué) |"
    )


def report(figures: dict[str, Any], label: str) -> list[tuple[str, str, bool]]:
    capacity = figures["capacity"]
    peak, page, recovery = figures["peak"], figures["sign_in"], figures["recovery"]
    print(f"\n## {label}")
    print(
        f"Capacité C (16 à la fois) : {capacity['rate']:.0f} tableaux de bord/s, "
        f"p99 {capacity['p99_ms']:.0f} ms. Charge offerte : {figures['offered']:.0f}/s."
    )
    print(
        "| phase | offert | servis | p50 / p99 servis | refus 503 | p99 d'un refus "
        "(depuis l'envoi) | autres 5xx | réponses |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(line("3 x C, tableau de bord", peak))
    print(line("page de connexion (5/s)", page))
    print(line("C / 2 juste après", recovery))
    served_p99 = outcome(peak, "200").get("p99", 0.0)
    refusal_p99 = outcome(peak, "503").get("p99_sent", 0.0)
    fives = errors_500(peak) + errors_500(page) + errors_500(recovery)
    recovered = recovery["outcomes"].get("200", 0) == sum(recovery["outcomes"].values())
    sign_in_served = page["outcomes"].get("200", 0) / max(1, sum(page["outcomes"].values()))
    return [
        ("p99 des requêtes servies à 3 x C ≤ 2 s", f"{served_p99:.0f} ms", served_p99 <= 2000),
        ("refus en ≤ 50 ms (p99, depuis l'envoi)", f"{refusal_p99:.1f} ms", refusal_p99 <= 50),
        ("0 HTTP 500", str(fives), fives == 0),
        (
            "reprise immédiate (tout servi à C / 2)",
            f"{recovery['outcomes']}",
            recovered,
        ),
        (
            "page de connexion servie pendant la pointe",
            f"{sign_in_served:.0%}",
            sign_in_served >= 0.99,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the overload")
    parser.add_argument(
        "--compare", action="store_true", help="run it again with admission control off"
    )
    options = parser.parse_args()
    targets = report(measure(admission=True, seconds=options.seconds), "Avec contrôle d'admission")
    if options.compare:
        report(measure(admission=False, seconds=options.seconds), "Sans contrôle d'admission")
    print("\n## Cibles (avec contrôle d'admission)")
    print("| cible | mesuré | verdict |")
    print("| --- | --- | --- |")
    for name, value, met in targets:
        print(f"| {name} | {value} | {'atteint' if met else 'NON ATTEINT'} |")
    print(f"\nRelancer : .venv/bin/python bench/admission.py --seconds {options.seconds:.0f}")


if __name__ == "__main__":
    main()
