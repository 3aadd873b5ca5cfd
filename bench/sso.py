"""Single sign-on benchmarks: ``.venv/bin/python bench/sso.py --help`` (or ``make bench``).

Against a bench database of its own (SQLite in a temporary directory by default), with
gunicorn on 127.0.0.1 and bench/loadgen.py in another process, measures:

1. refresh-token grants per second (each thread rotates its own chain);
2. client-credentials grants per second;
3. CAS ticket validations per second (/cas/p3/serviceValidate, tickets issued beforehand);
4. whole OpenID Connect sign-ins per second (password, authorize with PKCE, code exchange)
   against the Argon2id hash bound, cores ÷ t_hash.

The anchor for 1 and 2 is Keycloak's sizing guide (about 120 grants per second per vCPU).
Targets, per core (1 ÷ the server's CPU seconds per request): 240 refresh-token grants,
500 client-credentials grants, 500 CAS validations; whole sign-ins at 0.6 of the hash bound.
Figures are printed with the server's CPU per request and whether each target is met;
nothing is asserted. Results and how to read them: docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "src")]

from bench.run import (  # noqa: E402  (the path above makes bench importable)
    background_load,
    configure_environment,
    cores,
    cpu_model,
    forget_cache_keys,
    french,
    load,
    measure_hash,
    prepare_database,
    server,
)

REDIRECT_URI = "http://127.0.0.1:9/callback"
CAS_SERVICE = "http://127.0.0.1:9/cas-app/"
MODES = ("refresh", "client-credentials", "cas-validate", "code-logins")
# Per core for the first three (requests per second of server CPU), ratio to the hash
# bound for the whole sign-in.
TARGETS = {"refresh": 240.0, "client-credentials": 500.0, "cas-validate": 500.0, "code-logins": 0.6}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmarks of single sign-on (prints figures, asserts nothing).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--database-url", default="", help="As in bench/run.py.")
    parser.add_argument("--redis-url", default="", help="Redis for cache and sessions.")
    parser.add_argument("--pupils", type=int, default=3000, help="Seeded pupils.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=8.0, help="Measuring window per mode.")
    parser.add_argument(
        "--cas-tickets",
        type=int,
        default=12000,
        help="Tickets issued ahead (a validation burns one: enough for the warm-up and window).",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=MODES,
        help="Measure only these modes (repeatable); default: all.",
    )
    parser.add_argument("--keep", action="store_true")
    options = parser.parse_args()
    options.only = options.only or list(MODES)
    # bench/run.py's environment expects these.
    options.what_if_conn_max_age = None
    return options


def register_clients() -> dict[str, str]:
    from convergence.core.blueprints import apply

    secret = secrets.token_urlsafe(32)
    apply(
        {
            "services": [
                {
                    "slug": "banc-oidc",
                    "name": "Banc OIDC",
                    "description": "Service du banc d'essai.",
                    "url": "http://127.0.0.1:9/",
                    "category": "gestion",
                    "audience": "everyone",
                    "oidc": {
                        "client_id": "banc-oidc",
                        "client_secret": secret,
                        "redirect_uris": [REDIRECT_URI],
                        "first_party": True,
                    },
                },
                {
                    "slug": "banc-cas",
                    "name": "Banc CAS",
                    "description": "Service du banc d'essai.",
                    "url": CAS_SERVICE,
                    "category": "gestion",
                    "audience": "everyone",
                    "cas": {"url_prefix": CAS_SERVICE, "single_logout": False},
                },
            ],
            "server_clients": [{"client_id": "banc-serveur", "client_secret": secret}],
        }
    )
    return {"secret": secret}


def signed_in_client(login: str, password: str) -> Any:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    response = client.post("/connexion/", {"login": login, "password": password})
    assert response.status_code == 302, response.status_code
    return client


def authorize_query(challenge: str) -> dict[str, str]:
    """GET /oidc/authorize/ of the bench's first-party client, PKCE S256."""
    return {
        "response_type": "code",
        "client_id": "banc-oidc",
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def code_exchange(code: str, secret: str, verifier: str) -> dict[str, str]:
    """POST /oidc/token/ of the bench's first-party client, exchanging ``code``."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": "banc-oidc",
        "client_secret": secret,
        "code_verifier": verifier,
    }


def refresh_chains(logins: list[str], password: str, secret: str, count: int) -> list[str]:
    """One refresh token per thread, each from a real code flow (in-process)."""
    import base64
    import hashlib
    import json

    from django.test import Client

    lines = []
    for login in logins[:count]:
        client = signed_in_client(login, password)
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        response = client.get(
            "/oidc/authorize/",
            authorize_query(challenge.rstrip(b"=").decode()),
        )
        code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
        tokens = Client(HTTP_HOST="127.0.0.1").post(
            "/oidc/token/",
            code_exchange(code, secret, verifier),
        )
        lines.append(f"banc-oidc\t{secret}\t{json.loads(tokens.content)['refresh_token']}\n")
    return lines


def cas_tickets(login: str, password: str, count: int) -> list[str]:
    client = signed_in_client(login, password)
    lines = []
    for number in range(count):
        service = f"{CAS_SERVICE}page-{number}"
        response = client.get("/cas/login", {"service": service})
        ticket = parse_qs(urlsplit(response["Location"]).query)["ticket"][0]
        lines.append(f"{service}\t{ticket}\n")
    return lines


def measure(
    env: dict[str, str], options: argparse.Namespace, mode: str, *arguments: str
) -> dict[str, Any]:
    with server(env, options.workers, options.threads) as (port, pid):
        return load(
            env,
            mode,
            f"--port={port}",
            f"--server-pid={pid}",
            f"--concurrency={options.concurrency}",
            f"--warmup={options.warmup}",
            f"--duration={options.seconds}",
            *arguments,
            seconds=options.warmup + options.seconds,
        )


def per_core_rate(result: dict[str, Any]) -> float:
    """Requests per second of server CPU (1 ÷ the server's CPU seconds per request)."""
    server_seconds = result["server_cpu_seconds"] / max(1, result["ok"])
    return 1 / server_seconds if server_seconds else 0.0


def verdict(mode: str, result: dict[str, Any], bound: float) -> str:
    """The measured figure against its target, in words."""
    target = TARGETS[mode]
    if mode == "code-logins":
        measured = result["rate"] / bound
        text = f"{french(measured, 2)} de la borne du hachage pour une cible de {french(target, 1)}"
    else:
        measured = per_core_rate(result)
        text = f"{french(measured)} /s par cœur pour une cible de {french(target)} /s"
    return f"{text} : {'atteint' if measured >= target else 'non atteint'}"


def line(label: str, result: dict[str, Any], n_cores: int, extra: str = "") -> str:
    rate = result["rate"]
    server_ms = 1000 * result["server_cpu_seconds"] / max(1, result["ok"])
    per_core = 1000 / server_ms if server_ms else 0.0
    return (
        f"| {label} | {french(rate)} /s sur {n_cores} cœurs | {french(per_core)} /s "
        f"| {french(server_ms, 2)} ms | {french(result['p50_ms'])} / {french(result['p99_ms'])} ms "
        f"| {result['failed']} | {extra} |"
    )


def main() -> None:
    options = parse_arguments()
    started = time.monotonic()
    var_dir = Path(tempfile.mkdtemp(prefix="convergence-bench-sso-"))
    # Tickets are issued before the server starts: they must outlive the warm-up.
    os.environ["CONVERGENCE_CAS_TICKET_SECONDS"] = "3600"
    try:
        env = configure_environment(options, var_dir)
        import django

        django.setup()
        from django.conf import settings
        from django.utils import timezone

        n_cores = cores()
        print(
            f"Machine : {n_cores} cœurs ({cpu_model()}), charge de fond "
            f"{french(100 * background_load())} %. Base : "
            f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[1]}.",
            flush=True,
        )
        print("Préparation de la base du banc d'essai…", flush=True)
        prepared = prepare_database(
            options.pupils, flush=bool(options.database_url), what_if_sql=[]
        )
        secret = register_clients()["secret"]
        logins: list[str] = prepared["logins"]
        password: str = prepared["password"]
        chains = var_dir / "chains.tsv"
        chains.write_text("".join(refresh_chains(logins, password, secret, options.concurrency)))
        tickets = var_dir / "tickets.tsv"
        if "cas-validate" in options.only:
            print(f"Émission de {options.cas_tickets} tickets CAS…", flush=True)
            tickets.write_text(
                "".join(cas_tickets(logins[options.concurrency], password, options.cas_tickets))
            )
        accounts = var_dir / "accounts.tsv"
        accounts.write_text(
            "".join(f"{login}\t{password}\n" for login in logins[options.concurrency + 1 :])
        )
        t_hash = measure_hash()["cpu"]
        client = f"banc-oidc\t{secret}\t{REDIRECT_URI}"
        server_client = f"banc-serveur\t{secret}\t"
        results = {}
        for label, mode, arguments in (
            ("Renouvellement (refresh token)", "refresh", [f"--tokens={chains}"]),
            ("Identifiants client", "client-credentials", [f"--client={server_client}"]),
            ("Validation de ticket CAS (p3)", "cas-validate", [f"--tickets={tickets}"]),
            (
                "Connexion OIDC complète",
                "code-logins",
                [f"--accounts={accounts}", f"--client={client}"],
            ),
        ):
            if mode not in options.only:
                continue
            print(f"{label}…", flush=True)
            results[mode] = (label, measure(env, options, mode, *arguments))
        bound = n_cores / t_hash
        print()
        print(
            f"Banc SSO du {timezone.localtime():%Y-%m-%d %H:%M}, gunicorn {options.workers} x "
            f"{options.threads}, {options.concurrency} connexions, fenêtre {options.seconds:g} s."
        )
        print(
            "| mesure | débit | par cœur (CPU serveur) | CPU serveur / requête | p50 / p99 "
            "| échecs | remarque |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for mode, (label, result) in results.items():
            extra = f"cible {french(TARGETS[mode])} /s par cœur"
            if mode in {"refresh", "client-credentials"}:
                extra += " (repère Keycloak : 120 /s par vCPU)"
            if mode == "code-logins":
                extra = (
                    f"borne du hachage {french(bound)} /s (t_hash {french(1000 * t_hash)} ms) : "
                    f"{french(result['rate'] / bound, 2)} de la borne"
                )
            print(line(label, result, n_cores, extra))
        print()
        print("Cibles :")
        for mode, (label, result) in results.items():
            print(f"- {label} : {verdict(mode, result, bound)}")
        print()
        print(
            "Relancer : "
            + shlex.join([".venv/bin/python", "bench/sso.py", *sys.argv[1:]])
            + f"  (durée {french(time.monotonic() - started, 0)} s)"
        )
    finally:
        if options.redis_url:
            forget_cache_keys(options.redis_url, os.environ["CONVERGENCE_CACHE_PREFIX"])
        if options.keep:
            print(f"Répertoire conservé : {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
