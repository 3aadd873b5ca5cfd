"""Query plans of the hot paths: ``.venv/bin/python bench/plans.py --help``.

Against a bench database prepared as bench/run.py does (SQLite in a temporary directory by
default, or ``--database-url`` on a database named ``…bench…``, emptied first), runs in
process with the test client:

1. GET and POST /connexion/: a seeded pupil signs in;
2. GET /: the dashboard of the demo's Léa Martin, a first view and the next one;
3. CAS: a ticket issued by /cas/login, then validated by /cas/p3/serviceValidate;
4. OpenID Connect: /oidc/authorize/ (PKCE), then the code exchanged at /oidc/token/.

Every SELECT these requests run is captured as it runs (nothing is listed by hand, so the
report follows the code), explained with its own parameters (EXPLAIN QUERY PLAN on SQLite,
EXPLAIN on PostgreSQL) and printed shortened with its plan. A full scan of accounts_user or
audit_auditevent is flagged; the last line counts them. Prints, asserts nothing; how to read
it: docs/performance.md.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import re
import secrets
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "src")]

from bench.run import configure_environment, french, prepare_database  # noqa: E402
from bench.sso import (  # noqa: E402
    CAS_SERVICE,
    authorize_query,
    code_exchange,
    register_clients,
)

# Tables whose full scan grows with the académie: every account, every audit entry.
WATCHED_TABLES = ("accounts_user", "audit_auditevent")
SQL_WIDTH = 150
HOST = "127.0.0.1"


@dataclass
class Query:
    """One SELECT run by a request, with what its plan says."""

    sql: str
    params: Any
    plan: list[str] = field(default_factory=list)
    full_scans: list[str] = field(default_factory=list)
    # PostgreSQL only: how the flagged tables are read when sequential scans are disabled,
    # and whether an index then answers (the table is only too small to bother).
    without_seq_scan: str = ""
    index_answers: bool = False


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Query plans of the hot paths (prints plans, asserts nothing).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        default="",
        help="A database whose name contains 'bench' (emptied first); default: SQLite "
        "in a temporary directory.",
    )
    parser.add_argument("--pupils", type=int, default=20_000, help="Seeded pupils.")
    parser.add_argument("--keep", action="store_true", help="Keep the temporary directory.")
    options = parser.parse_args()
    # bench/run.py's environment expects these.
    options.redis_url = ""
    options.what_if_conn_max_age = None
    return options


@contextmanager
def capturing_selects() -> Iterator[list[Query]]:
    """The SELECTs run on the default connection meanwhile, with their parameters.

    A wrapper rather than CaptureQueriesContext, which keeps only the SQL with its values
    already interpolated: EXPLAIN then runs with the same parameters, bound the same way.
    """
    from django.db import connection

    queries: list[Query] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if not many and sql.lstrip().upper().startswith(("SELECT", "WITH")):
            queries.append(Query(sql=sql, params=params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield queries


def aliases(sql: str) -> dict[str, str]:
    """Table of each alias in the query (Django's subqueries name ``"accounts_user" U0``)."""
    found = {name: name for name in re.findall(r'(?:FROM|JOIN)\s+"(\w+)"', sql)}
    for table, alias in re.findall(r'(?:FROM|JOIN)\s+"(\w+)"\s+(?:AS\s+)?"?(\w+)"?', sql):
        if alias.upper() not in {"WHERE", "ON", "INNER", "LEFT", "ORDER", "GROUP", "LIMIT"}:
            found[alias] = table
    return found


def explain_sqlite(query: Query) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {query.sql}", query.params)
        rows = cursor.fetchall()
    depth: dict[int, int] = {0: -1}
    tables = aliases(query.sql)
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        query.plan.append("  " * depth[node] + detail)
        scanned = re.match(r"SCAN (?:TABLE )?(\w+)(?: AS (\w+))?", detail)
        if scanned and "USING" not in detail:
            table = tables.get(scanned.group(2) or scanned.group(1), scanned.group(1))
            if table in WATCHED_TABLES:
                query.full_scans.append(table)


def explain_postgresql(query: Query) -> None:
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {query.sql}", query.params)
        query.plan = [row[0] for row in cursor.fetchall()]
    for line in query.plan:
        scanned = re.search(r"Seq Scan on (\w+)", line)
        if scanned and scanned.group(1) in WATCHED_TABLES:
            query.full_scans.append(scanned.group(1))
    if query.full_scans:
        # A small table is cheaper to read whole: the planner's choice, not a missing index.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {query.sql}", query.params)
            plan = [row[0] for row in cursor.fetchall()]
        nodes = [
            line.strip().removeprefix("->  ")
            for line in plan
            if re.search(rf" on ({'|'.join(query.full_scans)})\b", line)
        ]
        query.index_answers = bool(nodes) and not any("Seq Scan" in node for node in nodes)
        query.without_seq_scan = "; ".join(nodes)


def shorten(sql: str) -> str:
    """One line; the list of selected columns elided; cut at ``SQL_WIDTH`` characters."""
    line = re.sub(r"\s+", " ", sql).strip()
    line = re.sub(r"^SELECT (?:DISTINCT )?.+? FROM ", "SELECT … FROM ", line, count=1)
    return line if len(line) <= SQL_WIDTH else line[: SQL_WIDTH - 1] + "…"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def hot_paths(prepared: dict[str, Any], secret: str) -> list[tuple[str, list[Query]]]:
    """Run each hot request once, in order; the SELECTs each ran."""
    from django.test import Client

    steps: list[tuple[str, list[Query]]] = []

    def step(label: str, run: Callable[[], Any], expected: int) -> Any:
        with capturing_selects() as queries:
            response = run()
        assert response.status_code == expected, f"{label} : {response.status_code}"
        steps.append((label, queries))
        return response

    login, password = prepared["logins"][len(prepared["logins"]) // 2], prepared["password"]
    visitor = Client(HTTP_HOST=HOST)
    step("GET /connexion/ (formulaire)", lambda: visitor.get("/connexion/"), 200)
    step(
        "POST /connexion/ (connexion réussie d'un élève créé par le banc)",
        lambda: visitor.post("/connexion/", {"login": login, "password": password}),
        302,
    )
    lea = Client(HTTP_HOST=HOST)
    lea.force_login(prepared["pupil"])
    step("GET / (tableau de bord de Léa Martin, première vue)", lambda: lea.get("/"), 200)
    step("GET / (tableau de bord de Léa Martin, vue suivante)", lambda: lea.get("/"), 200)

    issued = step(
        "GET /cas/login (ticket pour un service CAS, session ouverte)",
        lambda: visitor.get("/cas/login", {"service": CAS_SERVICE}),
        302,
    )
    ticket = parse_qs(urlsplit(issued["Location"]).query)["ticket"][0]
    step(
        "GET /cas/p3/serviceValidate (validation du ticket par le service)",
        lambda: Client(HTTP_HOST=HOST).get(
            "/cas/p3/serviceValidate", {"service": CAS_SERVICE, "ticket": ticket}
        ),
        200,
    )

    verifier, challenge = pkce()
    authorized = step(
        "GET /oidc/authorize/ (code, PKCE, session ouverte)",
        lambda: visitor.get("/oidc/authorize/", authorize_query(challenge)),
        302,
    )
    code = parse_qs(urlsplit(authorized["Location"]).query)["code"][0]
    step(
        "POST /oidc/token/ (échange du code)",
        lambda: Client(HTTP_HOST=HOST).post("/oidc/token/", code_exchange(code, secret, verifier)),
        200,
    )
    return steps


def report(steps: list[tuple[str, list[Query]]], vendor: str) -> None:
    explain = explain_sqlite if vendor == "sqlite" else explain_postgresql
    flagged: list[tuple[str, Query]] = []
    total = 0
    for label, queries in steps:
        print(f"\n## {label} — {len(queries)} SELECT")
        seen: dict[str, int] = {}
        for query in queries:
            seen[query.sql] = seen.get(query.sql, 0) + 1
        explained: set[str] = set()
        for query in queries:
            if query.sql in explained:
                continue
            explained.add(query.sql)
            total += 1
            explain(query)
            times = f" (x{seen[query.sql]})" if seen[query.sql] > 1 else ""
            scanned = ", ".join(query.full_scans)
            mark = f"  ⚠ PARCOURS COMPLET : {scanned}" if scanned else ""
            print(f"\n- {shorten(query.sql)}{times}{mark}")
            for line in query.plan:
                print(f"      {line}")
            if query.without_seq_scan:
                verdict = "un index répond" if query.index_answers else "aucun index ne répond"
                print(f"      sans parcours séquentiel ({verdict}) : {query.without_seq_scan}")
            if query.full_scans:
                flagged.append((label, query))
    print()
    tables = " ou ".join(WATCHED_TABLES)
    answered = sum(query.index_answers for _label, query in flagged)
    print(
        f"Requêtes chaudes qui parcourent entièrement {tables} : {len(flagged)} sur {total} "
        "(requêtes distinctes par étape)"
        + (
            f", dont {answered} auxquelles un index répondrait : le planificateur préfère "
            "lire la table, petite dans la base du banc."
            if flagged and vendor != "sqlite"
            else "."
        )
    )
    for label, query in flagged:
        print(f"  - {label} : {shorten(query.sql)}")


def main() -> None:
    options = parse_arguments()
    started = time.monotonic()
    var_dir = Path(tempfile.mkdtemp(prefix="convergence-bench-plans-"))
    try:
        configure_environment(options, var_dir)
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection

        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[1]
        print(f"Base : {engine}. Préparation de la base du banc d'essai…", flush=True)
        prepared = prepare_database(
            options.pupils, flush=bool(options.database_url), what_if_sql=[]
        )
        secret = register_clients()["secret"]
        if connection.vendor == "postgresql":
            # As autovacuum would have done by now on a real académie's database.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(
            f"{french(prepared['users'], 0)} comptes dont {french(options.pupils, 0)} élèves "
            f"créés par le banc ; sessions : {settings.SESSION_ENGINE.rsplit('.', 1)[1]}.",
            flush=True,
        )
        steps = hot_paths(prepared, secret)
        report(steps, connection.vendor)
        print()
        print(
            "Relancer : "
            + shlex.join([".venv/bin/python", "bench/plans.py", *sys.argv[1:]])
            + f"  (durée {french(time.monotonic() - started, 0)} s)"
        )
    finally:
        if options.keep:
            print(f"Répertoire conservé : {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
