"""Redis memory per signed-in session, measured on the production shape (deploy/prodlike.py).

A person signs in through nginx; their session as Redis holds it (the session value, and
their entry in the account's "Mes appareils" index) is then copied under fresh names
``--sessions`` times (DUMP / RESTORE, one index hash per copy as for as many people), and the
growth of Redis's ``used_memory`` is divided by the count. Prints the memory for 100,000 and
for the whole académie's peak.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.prodlike import Postgres, ProdLike, Redis  # noqa: E402

LEA = ("lmartin", "Girafe-Orange-Velo-71")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    options = parser.parse_args()
    postgres, server = Postgres.running(), Redis()
    server.start()
    shape = ProdLike(
        database_url=postgres.url(),
        redis_url=server.url(),
        var_dir=Path(tempfile.mkdtemp(prefix="convergence-bench-sessions-")),
        processes=1,
        worker=False,
        scheduler=False,
    )
    try:
        shape.prepare()
        with shape:
            shape.start()
            client = redis.Redis(port=server.port)
            shape.signed_in(*LEA)
            sessions = list(client.scan_iter("*django.contrib.sessions.cache*"))
            indexes = list(client.scan_iter("*devices:sessions:*"))
            assert len(sessions) == 1 and len(indexes) == 1, (sessions, indexes)
            session_value = client.dump(sessions[0])
            index_value = client.dump(indexes[0])
            assert session_value is not None and index_value is not None
            before = int(client.info("memory")["used_memory"])
            pipe = client.pipeline(transaction=False)
            for number in range(options.sessions):
                pipe.restore(f"{sessions[0].decode()}-{number}", 0, session_value)
                pipe.restore(f"{indexes[0].decode()}-{number}", 0, index_value)
                if number % 5000 == 4999:
                    pipe.execute()
            pipe.execute()
            after = int(client.info("memory")["used_memory"])
    finally:
        postgres.remove()
        server.remove()
    per_session = (after - before) / options.sessions
    print(f"Octets par session (valeur + entrée « Mes appareils ») : {per_session:.0f}")
    print(f"Pour 100 000 sessions : {per_session * 100_000 / 2**20:.0f} Mio")
    print(f"Pour 250 000 sessions : {per_session * 250_000 / 2**20:.0f} Mio")
    print(f"Relancer : .venv/bin/python bench/sessions_memory.py --sessions {options.sessions}")


if __name__ == "__main__":
    main()
