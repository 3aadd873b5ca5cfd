"""Render Convergence's Postfix configuration and run an instance of Postfix with it.

The templates are ``deploy/mail/postfix/`` (readable Postfix 3.7 configuration with
``{{placeholders}}``). :class:`Postfix` fills them in for one directory, one mail domain and
one Dovecot (its LMTP for delivery, its auth service for logins), and runs a separate
instance with ``postfix -c <dir> start`` — its own queue and state, never the Debian
package's. The test suite does this on free loopback ports (``tests/mail/postfix.py``); an
académie renders once for production::

    python -m deploy.mail.postfix render --dir /etc/postfix-convergence \\
        --mail-domain ac-exemple.fr --hostname smtp.ac-exemple.fr \\
        --ssl-cert /etc/ssl/certs/smtp.pem --ssl-key /etc/ssl/private/smtp.key \\
        --dovecot-host 127.0.0.1 --lmtp-port 24 --auth-port 12345 \\
        --relayhost '[relais.ac-exemple.fr]:25'

and writes who may send as whom with ``python -m deploy.mail.postfix addresses`` (from the
portal's accounts; see docs/mail.md, "Connecting the académie's Postfix").
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "postfix"
POLICY = HERE / "policy.py"
# The policy service's port on the loopback (deploy/mail/policy.py; main.cf asks it).
POLICY_PORT = 10040
POSTFIX_BIN = "/usr/sbin/postfix"
POSTMAP_BIN = "/usr/sbin/postmap"
# 25 MiB: a few scanned documents; attachments are base64 (a third larger than the files).
MESSAGE_SIZE_LIMIT = 25 * 1024 * 1024
# The three lookup tables written from the portal's accounts (see write_addresses).
TABLES = ("virtual_mailboxes", "virtual_aliases", "sender_logins")


# The four helpers below repeat deploy/mail/dovecot.py's: for mypy (`make lint`) the
# template directory deploy/mail/dovecot/ shadows the module deploy/mail/dovecot.py.
def free_port() -> int:
    """A TCP port free on the loopback now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def render_template(text: str, values: dict[str, str]) -> str:
    """Replace every ``{{name}}``; an unknown name is an error, not an empty setting."""
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    if "{{" in text:
        start = text.index("{{")
        raise KeyError(f"placeholder left unfilled: {text[start : text.index('}}', start) + 2]}")
    return text


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def postfix_binary() -> str | None:
    """The installed ``postfix`` command, or ``None``."""
    found = shutil.which("postfix")
    if found:
        return found
    return POSTFIX_BIN if Path(POSTFIX_BIN).exists() else None


def _postmap_binary() -> str:
    found = shutil.which("postmap") or (POSTMAP_BIN if Path(POSTMAP_BIN).exists() else None)
    if found is None:
        raise FileNotFoundError("postmap is not installed (package postfix)")
    return found


@dataclass(frozen=True)
class Mailbox:
    """One person as Postfix needs to know her: her login (the mailbox's name) and the
    other addresses of the mail domain that are hers (the portal's e-mail address)."""

    login: str
    addresses: tuple[str, ...] = ()


def address_tables(mail_domain: str, mailboxes: Iterable[Mailbox]) -> dict[str, str]:
    """The text of the three lookup tables, by name.

    - ``virtual_mailboxes``: ``login@domain`` of every person (unknown recipients refused);
    - ``virtual_aliases``: each other address → ``login@domain`` (delivered to her mailbox);
    - ``sender_logins``: every address → the login that may use it as a sender.

    Addresses outside ``mail_domain`` are left out: nobody sends as a Gmail address through
    the académie's server. An address claimed twice is refused, not silently given to one.
    """
    domain = mail_domain.strip().lower()
    owners: dict[str, str] = {}
    mailboxes_lines: list[str] = []
    aliases_lines: list[str] = []
    for mailbox in sorted(mailboxes, key=lambda found: found.login):
        login = mailbox.login.strip().lower()
        if not login or any(character in login for character in " \t@,"):
            raise ValueError(f"not a login: {mailbox.login!r}")
        own = f"{login}@{domain}"
        mailboxes_lines.append(f"{own}\t{login}")
        for address in (own, *mailbox.addresses):
            address = address.strip().lower()
            if not address.endswith("@" + domain) or any(c in address for c in " \t,"):
                continue
            if owners.get(address, login) != login:
                raise ValueError(f"{address} belongs to {owners[address]} and to {login}")
            if address not in owners and address != own:
                aliases_lines.append(f"{address}\t{own}")
            owners[address] = login
    header = "# Written by deploy/mail/postfix.py from the portal's accounts; do not edit.\n"
    return {
        "virtual_mailboxes": header + "".join(line + "\n" for line in mailboxes_lines),
        "virtual_aliases": header + "".join(line + "\n" for line in aliases_lines),
        "sender_logins": header
        + "".join(f"{address}\t{login}\n" for address, login in sorted(owners.items())),
    }


def write_tables(directory: Path, tables: Mapping[str, str]) -> None:
    """Write each table and index it with ``postmap``. A running Postfix notices the new
    ``.db`` file at its next connection (its processes compare the file's time), so the
    time is moved forward when two writes fall within the same second."""
    postmap = _postmap_binary()
    for name, text in tables.items():
        source = directory / name
        index = directory / f"{name}.db"
        before = index.stat().st_mtime if index.exists() else 0.0
        temporary = directory / f".{name}.new"
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(source)
        subprocess.run(  # noqa: S603 - the installed postmap
            # This instance's configuration, not /etc/postfix's (absent when the Debian
            # package was installed without configuring the system's Postfix).
            [postmap, "-c", str(directory), f"hash:{source}"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=True,
        )
        if index.stat().st_mtime <= before:
            later = before + 1
            os.utime(index, (later, later))


@dataclass
class Postfix:
    """One Postfix instance: its configuration in ``directory``, its queue and state below.

    ``security="none"`` listens on 127.0.0.1 only, in clear, and sends nothing outside the
    mail domain (tests, development); ``security="tls"`` is production: 587 with STARTTLS
    required and 465 with TLS, outside mail through ``relayhost``. Ports left at 0 are
    chosen free on the loopback when the configuration is rendered.
    """

    directory: Path
    mail_domain: str
    lmtp_port: int
    auth_port: int
    dovecot_host: str = "127.0.0.1"
    security: str = "none"
    hostname: str = ""
    submission_address: str = "127.0.0.1"
    submission_port: int = 0
    submissions_port: int = 465
    inet_interfaces: str = "all"
    relayhost: str = ""
    ssl_cert: str = ""
    ssl_key: str = ""
    message_size_limit: int = MESSAGE_SIZE_LIMIT
    # Outside ``directory``: `postfix check` wants the configuration owned by root, the
    # queue's and the state's insides by the user postfix.
    queue_directory: Path | None = None
    data_directory: Path | None = None
    log_file: Path | None = None
    instance_name: str = "postfix-convergence"
    # The sending limits' policy service (deploy/mail/policy.py). With ``policy_config`` (its
    # policy.conf), start() runs it beside Postfix and stop() ends it (tests, development);
    # in production it is a service of its own (deploy/systemd/convergence-mail-policy.service).
    policy_address: str = "127.0.0.1"
    policy_port: int = POLICY_PORT
    policy_config: Path | None = None
    _policy: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def config_path(self) -> Path:
        return self.directory / "main.cf"

    @property
    def queue_path(self) -> Path:
        return self.queue_directory or self.directory.with_name(self.directory.name + "-queue")

    @property
    def data_path(self) -> Path:
        return self.data_directory or self.directory.with_name(self.directory.name + "-data")

    @property
    def log_path(self) -> Path:
        return self.log_file or self.directory / "postfix.log"

    def log_text(self) -> str:
        """What Postfix logged so far (printed by the tests when one fails)."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    @property
    def listeners_name(self) -> str:
        return "tls" if self.security == "tls" else "loopback"

    def render(self) -> Path:
        """Write main.cf, master.cf and empty address tables (when there are none yet) into
        ``directory``; returns the path of main.cf."""
        if self.security not in {"none", "tls"}:
            raise ValueError("security must be 'none' or 'tls'")
        if self.security == "tls" and not (self.ssl_cert and self.ssl_key):
            raise ValueError("security 'tls' needs a certificate and its key")
        if not self.submission_port:
            self.submission_port = free_port()
        if not self.policy_port:
            self.policy_port = free_port()
        directory = self.directory
        directory.mkdir(parents=True, exist_ok=True)
        # Postfix's unprivileged processes (user postfix) read the tables and walk down to
        # the queue; Postfix itself refuses a configuration others may write.
        directory.chmod(0o755)
        for path in (self.queue_path, self.data_path, self.log_path.parent):
            path.mkdir(parents=True, exist_ok=True)
        self.queue_path.chmod(0o755)
        if os.geteuid() == 0:
            # Postfix's state (locks, TLS caches) belongs to its unprivileged user.
            owner = pwd.getpwnam("postfix")
            os.chown(self.data_path, owner.pw_uid, owner.pw_gid)
        self.data_path.chmod(0o700)
        values = {
            "config_dir": str(directory),
            "queue_directory": str(self.queue_path),
            "data_directory": str(self.data_path),
            "log_path": str(self.log_path),
            "instance_name": self.instance_name,
            "hostname": self.hostname or f"smtp.{self.mail_domain}",
            "mail_domain": self.mail_domain,
            "lmtp_host": self.dovecot_host,
            "lmtp_port": str(self.lmtp_port),
            "auth_host": self.dovecot_host,
            "auth_port": str(self.auth_port),
            "message_size_limit": str(self.message_size_limit),
            "submission_address": self.submission_address,
            "submission_port": str(self.submission_port),
            "submissions_port": str(self.submissions_port),
            "inet_interfaces": self.inet_interfaces,
            "relayhost": self.relayhost,
            "ssl_cert": self.ssl_cert,
            "ssl_key": self.ssl_key,
            "policy_address": self.policy_address,
            "policy_port": str(self.policy_port),
        }
        for name in ("main.cf", "master.cf"):
            stem = name.removesuffix(".cf")
            text = (TEMPLATES / name).read_text(encoding="utf-8") + (
                TEMPLATES / "listeners" / f"{self.listeners_name}.{stem}.cf"
            ).read_text(encoding="utf-8")
            (directory / name).write_text(render_template(text, values), encoding="utf-8")
        missing = {name: "" for name in TABLES if not (directory / f"{name}.db").exists()}
        if missing:
            write_tables(directory, missing)
        return self.config_path

    def write_addresses(self, mailboxes: Iterable[Mailbox]) -> None:
        """Who has a mailbox and who may send as whom; a running instance follows."""
        write_tables(self.directory, address_tables(self.mail_domain, mailboxes))

    def _command(self, *extra: str) -> list[str]:
        binary = postfix_binary()
        if binary is None:
            raise FileNotFoundError("postfix is not installed (/usr/sbin/postfix)")
        return [binary, "-c", str(self.directory), *extra]

    def _run(self, *extra: str, timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - the installed postfix command
            self._command(*extra),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, *, timeout: float = 20.0) -> None:
        """Check the configuration, start the master and wait until submission answers;
        raise with the log when it does not within ``timeout`` seconds."""
        if os.geteuid() != 0:
            raise PermissionError("Postfix starts as root only (it drops to user postfix)")
        if not self.config_path.exists():
            self.render()
        if self.policy_config is not None:
            self.start_policy(timeout=timeout)
        # `postfix start` also creates the queue's directories with their owners.
        result = self._run("start", timeout=timeout)
        if result.returncode != 0:
            self.stop_policy()
            raise RuntimeError(
                f"postfix did not start: {result.stdout}{result.stderr}\n{self.log_text()}"
            )
        deadline = time.monotonic() + timeout
        while not port_answers(self.submission_port, self.submission_address):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"postfix does not answer on {self.submission_port}:\n{self.log_text()}"
                )
            time.sleep(0.05)

    @property
    def policy_log_path(self) -> Path:
        return self.directory / "policy.log"

    def start_policy(self, *, timeout: float = 10.0) -> None:
        """Run deploy/mail/policy.py with ``policy_config`` on ``policy_port`` and wait
        until it answers; its messages go to ``policy.log`` beside the configuration."""
        if self._policy is not None and self._policy.poll() is None:
            return
        with self.policy_log_path.open("ab") as log:
            self._policy = subprocess.Popen(  # noqa: S603 - this interpreter, our daemon
                [
                    sys.executable,
                    str(POLICY),
                    "--config",
                    str(self.policy_config),
                    "--listen",
                    f"{self.policy_address}:{self.policy_port}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + timeout
        while not port_answers(self.policy_port, self.policy_address):
            if self._policy.poll() is not None or time.monotonic() > deadline:
                self.stop_policy()
                log_text = self.policy_log_path.read_text(encoding="utf-8", errors="replace")
                raise RuntimeError(f"the policy service did not start:\n{log_text}")
            time.sleep(0.05)

    def stop_policy(self, *, timeout: float = 5.0) -> None:
        process, self._policy = self._policy, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)

    def master_pid(self) -> int | None:
        try:
            return int((self.queue_path / "pid" / "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def queue_is_empty(self) -> bool:
        """Whether every accepted message has left the queue (delivered or bounced)."""
        for sub in ("incoming", "active", "deferred", "maildrop"):
            folder = self.queue_path / sub
            if folder.exists() and any(path.is_file() for path in folder.rglob("*")):
                return False
        return True

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop the instance (and its policy service, if started here); kill the master if
        it does not stop within ``timeout``."""
        self.stop_policy()
        pid = self.master_pid()
        if pid is None:
            return
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self._run("stop", timeout=timeout)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def __enter__(self) -> Postfix:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def portal_mailboxes(mail_domain: str) -> list[Mailbox]:
    """Every active account of the portal, with its e-mail address when it is in
    ``mail_domain``. Needs Django set up (the ``addresses`` command does it): the rest of
    this module uses the standard library only."""
    from convergence.accounts.models import AccountState, User

    suffix = "@" + mail_domain.lower()
    accounts = User.objects.filter(state=AccountState.ACTIVE).order_by("login")
    return [
        Mailbox(login=login, addresses=(email,) if email.lower().endswith(suffix) else ())
        for login, email in accounts.values_list("login", "email")
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Convergence's Postfix configuration.")
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="write the configuration into --dir")
    render.add_argument("--dir", type=Path, required=True)
    render.add_argument("--mail-domain", required=True, help="the académie's mail domain")
    render.add_argument("--hostname", default="", help="this server's name (smtp.<domain>)")
    render.add_argument("--security", choices=["tls", "none"], default="tls")
    render.add_argument("--ssl-cert", default="")
    render.add_argument("--ssl-key", default="")
    render.add_argument("--inet-interfaces", default="all")
    render.add_argument("--submission-port", type=int, default=587)
    render.add_argument("--submissions-port", type=int, default=465)
    render.add_argument(
        "--dovecot-host", default="127.0.0.1", help="Dovecot's LMTP and auth address"
    )
    render.add_argument("--lmtp-port", type=int, default=24)
    render.add_argument("--auth-port", type=int, default=12345)
    render.add_argument(
        "--relayhost", default="", help="the académie's outgoing relay, e.g. [relais.ac-x.fr]:25"
    )
    render.add_argument("--message-size-limit", type=int, default=MESSAGE_SIZE_LIMIT)
    render.add_argument(
        "--policy-port", type=int, default=POLICY_PORT, help="deploy/mail/policy.py's port"
    )
    render.add_argument("--queue-dir", type=Path, default=Path("/var/spool/postfix-convergence"))
    render.add_argument("--data-dir", type=Path, default=Path("/var/lib/postfix-convergence"))
    render.add_argument("--log-file", type=Path, default=Path("/var/log/postfix-convergence.log"))
    addresses = commands.add_parser(
        "addresses",
        help="write who has a mailbox and who may send as whom into --dir (from the portal)",
    )
    addresses.add_argument("--dir", type=Path, required=True)
    addresses.add_argument("--mail-domain", required=True)
    arguments = parser.parse_args(argv)
    if arguments.command == "addresses":
        # Run in the portal's environment: its virtualenv, settings and database.
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "convergence.settings")
        import django

        django.setup()
        write_tables(
            arguments.dir,
            address_tables(arguments.mail_domain, portal_mailboxes(arguments.mail_domain)),
        )
        return 0
    instance = Postfix(
        directory=arguments.dir,
        mail_domain=arguments.mail_domain,
        lmtp_port=arguments.lmtp_port,
        auth_port=arguments.auth_port,
        dovecot_host=arguments.dovecot_host,
        security=arguments.security,
        hostname=arguments.hostname,
        submission_port=arguments.submission_port,
        submissions_port=arguments.submissions_port,
        inet_interfaces=arguments.inet_interfaces,
        relayhost=arguments.relayhost,
        ssl_cert=arguments.ssl_cert,
        ssl_key=arguments.ssl_key,
        message_size_limit=arguments.message_size_limit,
        policy_port=arguments.policy_port,
        queue_directory=arguments.queue_dir,
        data_directory=arguments.data_dir,
        log_file=arguments.log_file,
    )
    sys.stdout.write(f"{instance.render()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
