"""Run everything the demo needs: web app, task worker, embedded mail server and the two demo
services of single sign-on (ENT over CAS, Arena over OpenID Connect).

Children are started with the same interpreter and environment; Ctrl-C (or one child dying)
stops them all, so nothing is left running behind the terminal.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

# Services of the demo académie that may stop without stopping the demo (the status page).
DEMO_SERVICES = ("ENT", "Arena")


class Command(BaseCommand):
    help = (
        "Démarre la démonstration : application web, file de tâches, serveur de courriel, "
        "services de démonstration ENT (CAS) et Arena (OpenID Connect)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--threads", type=int, default=16)
        # The blueprint registers the demo services at these ports (blueprints/demo.yaml).
        parser.add_argument("--ent-port", type=int, default=8001)
        parser.add_argument("--arena-port", type=int, default=8002)

    def handle(self, *args: Any, **options: Any) -> None:
        from demo.notifications import prepare_teacher_notifications

        if prepare_teacher_notifications():
            self.stdout.write(
                "Sophie Bernard reçoit les annonces par courriel tout de suite et sur ses "
                "appareils (ses préférences de notification de démonstration)."
            )
        python = sys.executable
        manage = [python, "-m", "django"]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "convergence.settings"}
        if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
            # The demo delivers the portal's mail to its own SMTP server.
            env.setdefault("EMAIL_HOST", "127.0.0.1")
        host, _, port = options["bind"].rpartition(":")
        if host in ("", "0.0.0.0", "[::]"):  # noqa: S104 (a wildcard is reached on the loopback)
            host = "127.0.0.1"
        portal = f"http://{host}:{port}"
        commands = {
            "courriel": [*manage, "mailserver"],
            "messagerie": [*manage, "demo_mailservers", "--portal", portal],
            "tâches": [*manage, "run_worker"],
            # Daily purges (accounts, audit, codes, SSO) and queued mail, checked every minute.
            # Rounds of status probes are due every STATUS_ROUND_SECONDS: checked every 5 s.
            "tâches planifiées": [*manage, "run_scheduled", "--loop", "--interval", "5"],
            # One process, many threads: the local-memory cache (throttling) is shared.
            "web": [
                python,
                "-m",
                "gunicorn",
                "convergence.wsgi",
                "--bind",
                options["bind"],
                "--workers",
                "1",
                "--threads",
                str(options["threads"]),
                "--access-logfile",
                "-",
            ],
            "ENT": [
                python,
                "-m",
                "demo.ent",
                "--port",
                str(options["ent_port"]),
                "--portal",
                portal,
            ],
            "Arena": [
                python,
                "-m",
                "demo.arena",
                "--port",
                str(options["arena_port"]),
                "--portal",
                portal,
            ],
        }
        children = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}  # noqa: S603
        self.stdout.write(
            f"Convergence est servi sur http://{options['bind']}/ (Ctrl-C pour arrêter)"
        )
        self.stdout.write(
            f"Services de démonstration : ENT (CAS) sur http://127.0.0.1:{options['ent_port']}/, "
            f"Arena (OpenID Connect) sur http://127.0.0.1:{options['arena_port']}/"
        )
        self.stdout.write(
            f"Messagerie de démonstration : IMAP 127.0.0.1:{settings.MAIL_IMAP_PORT}, "
            f"soumission SMTP 127.0.0.1:{settings.MAIL_SUBMISSION_PORT}, "
            f"ManageSieve 127.0.0.1:{settings.MAIL_SIEVE_PORT}"
        )
        self.stdout.write(
            f"État des services : http://{host}:{port}/statut/ — pour voir l'ENT passer "
            f"« indisponible » puis revenir, arrêtez-le (kill {children['ENT'].pid}) "
            "et relancez-le."
        )
        stopping = False

        def stop(*_args: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, child in list(children.items()):
                    if child.poll() is None:
                        continue
                    self.stderr.write(f"Le processus « {name} » s'est arrêté ({child.returncode}).")
                    if name in DEMO_SERVICES:
                        # A demo service may be stopped on purpose, to watch the portal's
                        # status page and tiles say so; the rest of the demo goes on.
                        self.stderr.write(
                            f"Le reste de la démonstration continue. Pour relancer « {name} » : "
                            f"{' '.join(commands[name])}"
                        )
                        del children[name]
                        continue
                    stopping = True
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.terminate()
            for child in children.values():
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
