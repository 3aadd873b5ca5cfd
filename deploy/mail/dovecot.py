"""Render Convergence's Dovecot configuration and run an instance of Dovecot with it.

The templates are ``deploy/mail/dovecot/`` (readable Dovecot 2.3 configuration with
``{{placeholders}}``). :class:`Dovecot` fills them in for one directory, one portal and one
server client, and starts ``dovecot -c <dir>/dovecot.conf`` — the test suite does this on
free loopback ports (``tests/mail/dovecot.py``); an académie renders once for production::

    python -m deploy.mail.dovecot render --dir /etc/dovecot/convergence \\
        --portal-url https://portail.ac-exemple.fr --client-id messagerie \\
        --client-secret-file /root/messagerie.secret --security tls \\
        --ssl-cert /etc/ssl/certs/imap.pem --ssl-key /etc/ssl/private/imap.key \\
        --mail-user vmail --mail-root /var/vmail

(see docs/mail.md, "Connecting the académie's Dovecot").
"""

from __future__ import annotations

import argparse
import contextlib
import grp
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "dovecot"
CHECKPASSWORD = HERE / "checkpassword.py"
NOTIFY = HERE / "notify.py"
# The program name the webmail's rules run (`execute :pipe "convergence-notify"`).
NOTIFY_PROGRAM = "convergence-notify"
DOVECOT_BIN = "/usr/sbin/dovecot"
CHECKPASSWORD_REPLY = "/usr/lib/dovecot/checkpassword-reply"


def dovecot_binary() -> str | None:
    """The installed Dovecot master, or ``None``."""
    found = shutil.which("dovecot")
    if found:
        return found
    return DOVECOT_BIN if Path(DOVECOT_BIN).exists() else None


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


@dataclass
class Dovecot:
    """One Dovecot instance: its configuration in ``directory``, its mail and state below.

    ``security="none"`` listens on 127.0.0.1 only, in clear (tests, development);
    ``security="tls"`` is production: IMAPS, ManageSieve with STARTTLS, ``ssl = required``.
    Ports left at 0 are chosen free on the loopback when the configuration is rendered.
    """

    directory: Path
    portal_url: str
    client_id: str
    client_secret: str
    security: str = "none"
    imap_port: int = 0
    lmtp_port: int = 0
    sieve_port: int = 0
    # Dovecot's auth service for Postfix's submission (SASL), on the LMTP address.
    auth_port: int = 0
    # doveadm's HTTP API on the LMTP address: the portal kicks a person's open sessions
    # (an app password revoked, an account suspended). The key is generated when empty.
    doveadm_port: int = 0
    doveadm_api_key: str = ""
    listen: str = "*"
    lmtp_address: str = "127.0.0.1"
    ssl_cert: str = ""
    ssl_key: str = ""
    mail_user: str = ""
    mail_root: Path | None = None
    run_dir: Path | None = None
    state_dir: Path | None = None
    log_file: Path | None = None
    auth_failure_delay: str = "2 secs"
    # The addresses the portal's webmail connects from (login_trusted_networks).
    portal_networks: str = "127.0.0.1/32 ::1/128"
    timeout_seconds: float = 5.0
    instance_name: str = "convergence"
    # The client « me notifier » uses (notify.conf, readable by the mail user every IMAP
    # process runs as): its own, which the portal lets call only the notification endpoint
    # (CONVERGENCE_MAIL_NOTIFY_CLIENT_ID). Empty: the server's own client (tests, small sites).
    notify_client_id: str = ""
    notify_client_secret: str = ""
    # The académie's time zone: Pigeonhole's currentdate (a vacation reply's first and last
    # day) reads the process's local time, the portal's dates are Paris dates.
    time_zone: str = "Europe/Paris"
    checkpassword_path: str = ""
    # Where vacation replies and redirects leave (Sieve): the mail relay's SMTP "host:port".
    # Empty: Dovecot's sendmail_path (/usr/sbin/sendmail, Postfix's when on the same host).
    submission_host: str = ""
    _process_group: list[int] = field(default_factory=list, repr=False)

    @property
    def config_path(self) -> Path:
        return self.directory / "dovecot.conf"

    @property
    def log_path(self) -> Path:
        return self.log_file or self.directory / "dovecot.log"

    @property
    def base_dir(self) -> Path:
        return self.run_dir or self.directory / "run"

    def log_text(self) -> str:
        """What Dovecot logged so far (printed by the tests when one fails)."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def _users(self) -> tuple[str, str, str]:
        """Dovecot's internal user, its login user and the mail owner for this process.

        As root (CI, production): the Debian package's ``dovecot`` and ``dovenull``, and
        ``mail_user`` (``vmail`` in production, Debian's ``mail`` in tests) for mailboxes,
        since Dovecot refuses root there. Without root, everything runs as the caller."""
        if os.geteuid() != 0:
            me = pwd.getpwuid(os.geteuid()).pw_name
            return me, me, me
        return "dovecot", "dovenull", self.mail_user or "mail"

    def render(self) -> Path:
        """Write the configuration into ``directory``; returns the path of dovecot.conf."""
        if self.security not in {"none", "tls"}:
            raise ValueError("security must be 'none' or 'tls'")
        if self.security == "tls" and not (self.ssl_cert and self.ssl_key):
            raise ValueError("security 'tls' needs a certificate and its key")
        for name in ("imap_port", "lmtp_port", "sieve_port", "auth_port", "doveadm_port"):
            if not getattr(self, name):
                setattr(self, name, free_port())
        internal_user, login_user, mail_user = self._users()
        mail_owner = pwd.getpwnam(mail_user)
        mail_root = self.mail_root or self.directory
        directory = self.directory
        (directory / "conf.d").mkdir(parents=True, exist_ok=True)
        state_dir = self.state_dir or directory / "state"
        for path in (self.base_dir, state_dir, self.log_path.parent):
            path.mkdir(parents=True, exist_ok=True)
        for sub in ("mail", "home"):
            (mail_root / sub).mkdir(parents=True, exist_ok=True)
            os.chown(mail_root / sub, mail_owner.pw_uid, mail_owner.pw_gid)
            (mail_root / sub).chmod(0o750)
        # Dovecot's unprivileged processes walk through this directory.
        directory.chmod(0o755)
        checkpassword = self.checkpassword_path or str(directory / "checkpassword.py")
        if not self.checkpassword_path:
            shutil.copyfile(CHECKPASSWORD, checkpassword)
            Path(checkpassword).chmod(0o755)
        # Pigeonhole's sieve_execute_bin_dir: the one program a rule may run (« me notifier »).
        execute_dir = directory / "sieve-execute"
        execute_dir.mkdir(exist_ok=True)
        execute_dir.chmod(0o755)
        shutil.copyfile(NOTIFY, execute_dir / NOTIFY_PROGRAM)
        (execute_dir / NOTIFY_PROGRAM).chmod(0o755)
        introspection = urllib.parse.urlsplit(self.portal_url.rstrip("/") + "/oidc/introspect/")
        credentials = (
            urllib.parse.quote(self.client_id, safe="")
            + ":"
            + urllib.parse.quote(self.client_secret, safe="")
        )
        introspection_url = introspection._replace(
            netloc=f"{credentials}@{introspection.netloc}"
        ).geturl()
        values = {
            "base_dir": str(self.base_dir),
            "state_dir": str(state_dir),
            "config_dir": str(directory),
            "instance_name": self.instance_name,
            "time_zone": self.time_zone,
            "log_path": str(self.log_path),
            "internal_user": internal_user,
            "login_user": login_user,
            "auth_failure_delay": self.auth_failure_delay,
            "portal_networks": self.portal_networks,
            "checkpassword_path": checkpassword,
            "mail_uid": str(mail_owner.pw_uid),
            "mail_gid": str(mail_owner.pw_gid),
            "mail_dir": str(mail_root / "mail"),
            "home_dir": str(mail_root / "home"),
            "listen": self.listen,
            "lmtp_address": self.lmtp_address,
            "ssl_cert": self.ssl_cert,
            "ssl_key": self.ssl_key,
            "imap_port": str(self.imap_port),
            "lmtp_port": str(self.lmtp_port),
            "sieve_port": str(self.sieve_port),
            "auth_port": str(self.auth_port),
            "doveadm_port": str(self.doveadm_port),
            "introspection_url": introspection_url,
            "timeout_msecs": str(int(self.timeout_seconds * 1000)),
            "portal_url": self.portal_url.rstrip("/"),
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "notify_client_id": self.notify_client_id or self.client_id,
            "notify_client_secret": self.notify_client_secret or self.client_secret,
            "timeout_seconds": str(self.timeout_seconds),
            "submission_host": self.submission_host,
        }
        outputs = {
            "dovecot.conf": TEMPLATES / "dovecot.conf",
            "conf.d/30-listeners.conf": TEMPLATES / "listeners" / f"{self.listeners_name}.conf",
            "dovecot-oauth2.conf.ext": TEMPLATES / "dovecot-oauth2.conf.ext",
            "checkpassword.conf": TEMPLATES / "checkpassword.conf",
            "notify.conf": TEMPLATES / "notify.conf",
        }
        for fragment in sorted((TEMPLATES / "conf.d").glob("*.conf")):
            outputs[f"conf.d/{fragment.name}"] = fragment
        dovecot_group = grp.getgrnam(internal_user).gr_gid if os.geteuid() == 0 else -1
        if not self.doveadm_api_key:
            self.doveadm_api_key = secrets.token_urlsafe(32)
        # The portal's key to doveadm's HTTP API (kick a person's sessions): root and Dovecot.
        key_file = directory / "doveadm-api.key"
        key_file.write_text(self.doveadm_api_key, encoding="utf-8")  # no newline: read as is
        os.chown(key_file, -1, dovecot_group)
        key_file.chmod(0o640)
        for name, template in outputs.items():
            target = directory / name
            target.write_text(
                render_template(template.read_text(encoding="utf-8"), values), encoding="utf-8"
            )
            if name in {"dovecot-oauth2.conf.ext", "checkpassword.conf"}:
                # The server client's secret: root and Dovecot only.
                os.chown(target, -1, dovecot_group)
                target.chmod(0o640)
            elif name == "notify.conf":
                # The notify client's secret, for the program Pigeonhole runs as the mail user.
                os.chown(target, -1, mail_owner.pw_gid if os.geteuid() == 0 else -1)
                target.chmod(0o640)
        return self.config_path

    @property
    def listeners_name(self) -> str:
        return "tls" if self.security == "tls" else "loopback"

    def _command(self, *extra: str) -> list[str]:
        binary = dovecot_binary()
        if binary is None:
            raise FileNotFoundError("dovecot is not installed (/usr/sbin/dovecot)")
        return [binary, "-c", str(self.config_path), *extra]

    def start(self, *, timeout: float = 10.0) -> None:
        """Start the master (it forks into the background) and wait until every port answers;
        raise with the log when it does not within ``timeout`` seconds."""
        if not self.config_path.exists():
            self.render()
        # The master forks and keeps its standard streams: a file, not a pipe to wait on.
        errors = self.directory / "startup-errors.txt"
        with errors.open("wb") as stream:
            result = subprocess.run(  # noqa: S603 - the installed dovecot binary
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=stream,
                stderr=stream,
                timeout=timeout,
                check=False,
            )
        if result.returncode != 0:
            raise RuntimeError(
                f"dovecot did not start: {errors.read_text(errors='replace')}\n{self.log_text()}"
            )
        deadline = time.monotonic() + timeout
        ports = (
            self.imap_port,
            self.lmtp_port,
            self.sieve_port,
            self.auth_port,
            self.doveadm_port,
        )
        while not all(port_answers(port) for port in ports):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"dovecot does not answer on {ports}:\n{self.log_text()}")
            time.sleep(0.05)

    def master_pid(self) -> int | None:
        try:
            return int((self.base_dir / "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop the instance; kill the master if it does not stop within ``timeout``."""
        pid = self.master_pid()
        if pid is None:
            return
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            subprocess.run(  # noqa: S603 - the installed dovecot binary
                self._command("stop"),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def __enter__(self) -> Dovecot:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Convergence's Dovecot configuration.")
    commands = parser.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="write the configuration into --dir")
    render.add_argument("--dir", type=Path, required=True)
    render.add_argument("--portal-url", required=True)
    render.add_argument("--client-id", required=True)
    render.add_argument(
        "--client-secret-file", type=Path, required=True, help="file holding the secret"
    )
    render.add_argument("--security", choices=["tls", "none"], default="tls")
    render.add_argument("--ssl-cert", default="")
    render.add_argument("--ssl-key", default="")
    render.add_argument("--listen", default="*")
    render.add_argument("--lmtp-address", default="127.0.0.1")
    render.add_argument("--imap-port", type=int, default=993)
    render.add_argument("--lmtp-port", type=int, default=24)
    render.add_argument("--sieve-port", type=int, default=4190)
    render.add_argument(
        "--auth-port",
        type=int,
        default=12345,
        help="Dovecot's auth service for Postfix (SASL), on --lmtp-address",
    )
    render.add_argument(
        "--doveadm-port",
        type=int,
        default=8080,
        help="doveadm's HTTP API for the portal (kicks sessions), on --lmtp-address",
    )
    render.add_argument(
        "--doveadm-api-key-file",
        type=Path,
        help="the key the portal sends (CONVERGENCE_MAIL_DOVEADM_API_KEY); generated if absent",
    )
    render.add_argument(
        "--submission-host",
        default="",
        help="the relay's SMTP host:port for vacation replies and redirects (default: sendmail)",
    )
    render.add_argument("--mail-user", default="vmail")
    render.add_argument("--mail-root", type=Path, default=Path("/var/vmail"))
    render.add_argument("--run-dir", type=Path, default=Path("/run/dovecot-convergence"))
    render.add_argument("--state-dir", type=Path, default=Path("/var/lib/dovecot-convergence"))
    render.add_argument("--log-file", type=Path, default=Path("/var/log/dovecot-convergence.log"))
    render.add_argument(
        "--checkpassword",
        default="/usr/local/lib/convergence/checkpassword.py",
        help="where checkpassword.py is installed (root-owned, mode 0755)",
    )
    render.add_argument(
        "--portal-networks",
        default="127.0.0.1/32 ::1/128",
        help="the addresses the portal's app servers connect from (login_trusted_networks)",
    )
    render.add_argument(
        "--notify-client-id",
        default="",
        help="the server client « me notifier » uses (only the notification endpoint)",
    )
    render.add_argument(
        "--notify-client-secret-file",
        type=Path,
        help="a file holding that client's secret",
    )
    arguments = parser.parse_args(argv)
    instance = Dovecot(
        directory=arguments.dir,
        portal_url=arguments.portal_url,
        client_id=arguments.client_id,
        client_secret=arguments.client_secret_file.read_text(encoding="utf-8").strip(),
        notify_client_id=arguments.notify_client_id,
        notify_client_secret=(
            arguments.notify_client_secret_file.read_text(encoding="utf-8").strip()
            if arguments.notify_client_secret_file
            else ""
        ),
        security=arguments.security,
        imap_port=arguments.imap_port,
        lmtp_port=arguments.lmtp_port,
        sieve_port=arguments.sieve_port,
        auth_port=arguments.auth_port,
        doveadm_port=arguments.doveadm_port,
        doveadm_api_key=(
            arguments.doveadm_api_key_file.read_text(encoding="utf-8").strip()
            if arguments.doveadm_api_key_file
            else ""
        ),
        listen=arguments.listen,
        lmtp_address=arguments.lmtp_address,
        ssl_cert=arguments.ssl_cert,
        ssl_key=arguments.ssl_key,
        mail_user=arguments.mail_user,
        mail_root=arguments.mail_root,
        run_dir=arguments.run_dir,
        state_dir=arguments.state_dir,
        log_file=arguments.log_file,
        checkpassword_path=arguments.checkpassword,
        submission_host=arguments.submission_host,
        portal_networks=arguments.portal_networks,
    )
    sys.stdout.write(f"{instance.render()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
