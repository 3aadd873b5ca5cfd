"""The production shape on one machine: nginx → N gunicorn processes → PostgreSQL + Redis,
the task worker on the Redis queue, the scheduler, and the demo académie's mail server.

``make prod-like`` runs it until Ctrl-C. The integration tests (``tests/integration/``) and
the benchmarks use the same classes, with a throw-away PostgreSQL cluster and Redis server of
their own (:class:`Postgres`, :class:`Redis`) so that stopping them disturbs nothing else.

Everything listens on the loopback only. The configuration files are the ones in ``deploy/``
(nginx site, gunicorn settings, Redis settings), filled in for loopback ports: what is tested
is what an académie installs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import requests

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
PYTHON = sys.executable


def free_port() -> int:
    """A TCP port free on the loopback now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def wait_until(predicate: object, *, timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll ``predicate`` until true; raise after ``timeout`` seconds (no wait is unbounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(interval)
    raise TimeoutError(f"{what}: not ready after {timeout:.0f} s")


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the ``postgres`` account then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"]
    return []


def postgres_bin(tool: str) -> str:
    """The path of a PostgreSQL server tool (initdb, pg_ctl), from Debian's layout or PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"))
    if found:
        return str(found[-1])
    on_path = shutil.which(tool)
    if on_path is None:
        raise FileNotFoundError(
            f"{tool} not found: install PostgreSQL (apt-get install postgresql)"
        )
    return on_path


@dataclass
class Postgres:
    """A throw-away PostgreSQL cluster on a loopback port, started and stopped at will."""

    port: int = field(default_factory=free_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="convergence-pg-")))

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "convergence") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    @classmethod
    def running(cls) -> Postgres:
        """A new cluster, started, with an empty ``convergence`` database."""
        server = cls()
        server.init()
        server.start()
        server.create_database("convergence")
        return server

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        subprocess.run(  # noqa: S603
            [
                *_as_postgres_user(),
                postgres_bin("initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c fsync=off -c max_connections=200"
        )
        subprocess.run(  # noqa: S603
            [
                *_as_postgres_user(),
                postgres_bin("pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(self.folder / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
            timeout=90,
        )

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(  # noqa: S603
            [
                *_as_postgres_user(),
                postgres_bin("pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                mode,
                "-w",
                "-t",
                "60",
                "stop",
            ],
            check=False,
            capture_output=True,
            timeout=90,
        )

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Redis:
    """A throw-away Redis on a loopback port, with the persistence of deploy/redis/."""

    port: int = field(default_factory=free_port)
    folder: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="convergence-redis-"))
    )
    process: subprocess.Popen[bytes] | None = None

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        command = [
            shutil.which("redis-server") or "redis-server",
            str(DEPLOY / "redis" / "convergence.conf"),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.folder),
            "--maxmemory",
            "512mb",
            "--daemonize",
            "no",
        ]
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=log)  # noqa: S603
        wait_until(lambda: self.ping(), timeout=20, what="redis")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """A clean stop: Redis writes what it holds before leaving."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def kill(self) -> None:
        """A crash: no chance to save anything."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def remove(self) -> None:
        self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Child:
    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            self.command,
            env=self.env,
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if not self.running():
            return
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


class ProdLike:
    """The production shape on the loopback; a context manager that stops all it started."""

    def __init__(
        self,
        *,
        database_url: str,
        redis_url: str,
        var_dir: Path,
        port: int | None = None,
        processes: int = 2,
        threads: int = 4,
        admitted: int | None = None,
        extra_env: dict[str, str] | None = None,
        worker: bool = True,
        scheduler: bool = True,
    ) -> None:
        self.var_dir = var_dir
        self.port = port or free_port()
        self.app_ports = [free_port() for _ in range(processes)]
        self.threads = threads
        # In flight per process before nginx refuses (its max_conns): each thread busy, and as
        # many again waiting in gunicorn's queue (docs/deployment.md, "At the peak"); sign-in
        # and help have half as much again of their own; 0: no limit.
        self.per_process = threads * 2 if admitted is None else admitted
        self.admitted = processes * self.per_process
        self.smtp_port = free_port()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        (self.var_dir / "logs").mkdir(exist_ok=True)
        key_file = self.var_dir / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(64))
            key_file.chmod(0o600)
        host = f"127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "convergence.settings",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
            "CONVERGENCE_PRODUCTION": "1",
            # TLS is terminated by nginx in production (docs/deployment.md); the loopback
            # shape speaks plain HTTP, so secure cookies and the HTTPS redirect are off.
            "CONVERGENCE_HTTPS": "0",
            "CONVERGENCE_DEMO": "1",
            # The demo académie's services (ENT, Arena) sign in over plain HTTP on loopback.
            "CONVERGENCE_OIDC_ALLOW_HTTP_REDIRECTS": "1",
            "CONVERGENCE_CAS_ALLOW_HTTP_CALLBACK": "1",
            "SECRET_KEY": key_file.read_text().strip(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CONVERGENCE_OFFICIAL_HOST": host,
            "CSRF_TRUSTED_ORIGINS": f"http://{host}",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CONVERGENCE_VAR_DIR": str(self.var_dir),
            "CONVERGENCE_TRUSTED_PROXY_COUNT": "1",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.smtp_port),
            "CONVERGENCE_LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.env.pop("DJANGO_DEBUG", None)
        self.children: dict[str, Child] = {}
        self.nginx: Child | None = None
        self._worker = worker
        self._scheduler = scheduler

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Run a management command with the shape's settings; its output on failure."""
        done = subprocess.run(  # noqa: S603
            [PYTHON, "-m", "django", *args],
            env=self.env,
            cwd=ROOT,
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done

    def prepare(self, *, blueprint: str | None = "blueprints/demo.yaml") -> None:
        """Migrate, load the académie, collect static files, write the proxy's pages."""
        self.manage("migrate", "--noinput")
        if blueprint:
            self.manage("load_blueprint", blueprint)
        self.manage("collectstatic", "--noinput")
        self.manage("write_error_pages", str(self.var_dir / "errors"))
        self.write_nginx()

    def _child(self, name: str, command: list[str], env: dict[str, str] | None = None) -> Child:
        child = Child(name, command, env or self.env, self.var_dir / "logs" / f"{name}.log")
        self.children[name] = child
        return child

    def app_command(self, index: int) -> tuple[list[str], dict[str, str]]:
        env = {
            **self.env,
            "CONVERGENCE_WEB_BIND": f"127.0.0.1:{self.app_ports[index]}",
            "CONVERGENCE_WEB_THREADS": str(self.threads),
            "CONVERGENCE_WEB_NAME": f"convergence-web-{index + 1}",
            "PROMETHEUS_MULTIPROC_DIR": str(self.var_dir / f"metrics-{index + 1}"),
        }
        metrics = Path(env["PROMETHEUS_MULTIPROC_DIR"])
        shutil.rmtree(metrics, ignore_errors=True)
        metrics.mkdir(parents=True)
        command = [
            PYTHON,
            "-m",
            "gunicorn",
            "--config",
            str(DEPLOY / "gunicorn.conf.py"),
            "convergence.wsgi",
        ]
        return command, env

    def start_app(self, index: int) -> None:
        command, env = self.app_command(index)
        child = self._child(f"web-{index + 1}", command, env)
        child.start()
        wait_until(
            lambda: self.get(f"http://127.0.0.1:{self.app_ports[index]}/sante/vivant") == 200,
            timeout=60,
            what=f"application process {index + 1}",
        )

    def stop_app(self, index: int, sig: int = signal.SIGTERM) -> None:
        self.children[f"web-{index + 1}"].stop(sig)

    def start_worker(self, name: str = "worker") -> Child:
        child = self._child(name, [PYTHON, "-m", "django", "run_worker"])
        child.start()
        return child

    def start(self) -> None:
        self._child(
            "smtp",
            [
                PYTHON,
                "-m",
                "django",
                "mailserver",
                "--port",
                str(self.smtp_port),
                "--maildir",
                str(self.var_dir / "maildir"),
            ],
        ).start()
        for index in range(len(self.app_ports)):
            self.start_app(index)
        if self._worker:
            self.start_worker()
        if self._scheduler:
            # As the systemd unit: every 15 s, the period of the rounds of status probes.
            self._child(
                "scheduler",
                [PYTHON, "-m", "django", "run_scheduled", "--loop", "--interval", "15"],
            ).start()
        self.start_nginx()
        wait_until(
            lambda: self.get(f"{self.url}/sante/pret") == 200, timeout=60, what="nginx → portal"
        )

    def start_nginx(self) -> None:
        """nginx with the site written by :meth:`prepare` (or ``write_nginx``), listening."""
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.nginx = self._child(
            "nginx",
            [
                nginx,
                "-p",
                str(self.var_dir / "nginx"),
                "-c",
                str(self.var_dir / "nginx" / "nginx.conf"),
                "-g",
                "daemon off;",
            ],
        )
        self.nginx.start()
        wait_until(lambda: port_answers(self.port), timeout=30, what="nginx")

    def stop(self) -> None:
        for child in reversed(list(self.children.values())):
            child.stop()

    def __enter__(self) -> ProdLike:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def signed_in(self, login: str, password: str) -> requests.Session:
        """A browser signed in through nginx with the sign-in form (benchmarks)."""
        import re

        import requests

        browser = requests.Session()
        page = browser.get(f"{self.url}/connexion/", timeout=15)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if token is None:
            raise RuntimeError("no sign-in form")
        answer = browser.post(
            f"{self.url}/connexion/",
            data={"csrfmiddlewaretoken": token.group(1), "login": login, "password": password},
            allow_redirects=False,
            timeout=15,
        )
        if answer.status_code != 302:
            raise RuntimeError(f"sign-in of {login} answered {answer.status_code}")
        return browser

    @staticmethod
    def get(url: str, timeout: float = 2) -> int:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except OSError:
            return 0

    def write_nginx(self) -> None:
        """deploy/nginx/convergence.conf filled in for this shape's ports and folders."""
        folder = self.var_dir / "nginx"
        (folder / "logs").mkdir(parents=True, exist_ok=True)
        (folder / "temp").mkdir(exist_ok=True)
        site = (DEPLOY / "nginx" / "convergence.conf").read_text()

        def servers(max_conns: int) -> str:
            limit = f" max_conns={max_conns}" if max_conns else ""
            return "\n    ".join(
                f"server 127.0.0.1:{port} max_fails=0{limit};" for port in self.app_ports
            )

        values = {
            "@@LISTEN@@": f"listen 127.0.0.1:{self.port};",
            "@@UPSTREAMS@@": servers(self.per_process),
            "@@PRIORITY_UPSTREAMS@@": servers(self.per_process * 3 // 2),
            "@@PROBE_UPSTREAMS@@": servers(0),
            "@@STATIC@@": f"{self.var_dir / 'static'}/",
            "@@ERRORS@@": f"{self.var_dir / 'errors'}/",
        }
        # The access log where this shape keeps its files (the production path needs root).
        site = site.replace(
            "/var/log/nginx/convergence.access.log", str(folder / "logs" / "access.log")
        )
        lines = []
        for line in site.splitlines():
            if not line.lstrip().startswith("#"):  # the header explains the markers
                for marker, value in values.items():
                    line = line.replace(marker, value)
            lines.append(line)
        site = "\n".join(lines) + "\n"
        (folder / "convergence.conf").write_text(site)
        temp = folder / "temp"
        user = "user root;" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(
            f"""{user}
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "logs" / "error.log"} warn;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    access_log {folder / "logs" / "access.log"};
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {folder / "convergence.conf"};
}}
"""
        )


@contextlib.contextmanager
def local_services(var_dir: Path) -> Iterator[tuple[str, str]]:
    """The database and Redis URLs for ``make prod-like``: the servers on 127.0.0.1:5432 and
    :6379 where they answer (a database of its own, a Redis database of its own), else
    throw-away ones started under ``var_dir`` and stopped at the end."""
    started: list[Postgres | Redis] = []
    try:
        if port_answers(5432):
            database_url = "postgres://postgres@127.0.0.1:5432/convergence_prodlike"
            _create_database_if_missing(database_url)
        else:
            postgres = Postgres()
            postgres.init()
            postgres.start()
            started.append(postgres)
            postgres.create_database("convergence")
            database_url = postgres.url()
        if port_answers(6379):
            redis_url = "redis://127.0.0.1:6379/2"
        else:
            redis = Redis(folder=var_dir / "redis")
            redis.folder.mkdir(parents=True, exist_ok=True)
            redis.start()
            started.append(redis)
            redis_url = redis.url()
        yield database_url, redis_url
    finally:
        for service in reversed(started):
            service.stop()


def _create_database_if_missing(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--var-dir", type=Path, default=ROOT / "var" / "prodlike")
    options = parser.parse_args()
    with local_services(options.var_dir) as (database_url, redis_url):
        shape = ProdLike(
            database_url=database_url,
            redis_url=redis_url,
            var_dir=options.var_dir,
            port=options.port,
            processes=options.processes,
            threads=options.threads,
        )
        print("Préparation : migrations, académie de démonstration, fichiers statiques…")  # noqa: T201
        shape.prepare()
        stopping = False

        def stop(*_args: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        with shape:
            shape.start()
            print(  # noqa: T201
                f"Forme de production servie sur {shape.url}/ : nginx → {options.processes} "
                f"processus gunicorn → PostgreSQL ({database_url}) + Redis ({redis_url}), "
                f"exécuteur de tâches RQ, tâches planifiées. Journaux : {options.var_dir}/logs. "
                "Ctrl-C pour arrêter."
            )
            try:
                while not stopping:
                    for name, child in shape.children.items():
                        if not child.running():
                            print(f"Le processus « {name} » s'est arrêté.")  # noqa: T201
                            stopping = True
                    time.sleep(0.5)
            except KeyboardInterrupt:
                pass


if __name__ == "__main__":
    main()
