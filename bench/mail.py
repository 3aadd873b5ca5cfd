"""The webmail against a real Dovecot (issue 16): a 100,000-message folder beside a 1,000 one.

Sets up a throw-away SQLite database with the demo académie, the portal in a thread (Dovecot
introspects the webmail's tokens there) and a Dovecot rendered by ``deploy/mail/dovecot.py``;
writes Sophie Bernard's two folders straight into her Maildir, lets Dovecot index them on a
first SELECT (not measured), then measures, side by side in one run, medians of ``--repeat``
rounds in alternation:

(a) the webmail's first page (``mailbox.page`` on a pooled ``connections.session``) of the
    100,000-message folder against the 1,000 one: target ≤ 1.5 x;
(b) the same against raw imapclient on an already logged-in connection: SORT (REVERSE
    ARRIVAL) + FETCH of the same 50 messages' items: target ≤ 1.3 x;
(c) opening a message (``mailbox.fetch_message`` + ``rendering.render_message``) against a
    raw FETCH BODY.PEEK[]: target ≤ 1.3 x;
(d) ``/messagerie/`` served per second by Django's test client (signed in) against the bare
    view (``bench/urls.py``), in alternation;
(e) server-side search over the 100,000 messages (``mailbox.search``): a subject word and a
    body word, the first time and then the median.

Prints a table; exits non-zero only on an error (a missed target is printed, not raised).

Run (as root, with Dovecot installed; about 2 minutes):
``env -u DATABASE_URL -u REDIS_URL .venv/bin/python bench/mail.py``
(``--messages``, ``--small``, ``--repeat``, ``--profile``, ``--keep``).
"""

from __future__ import annotations

import argparse
import cProfile
import email.base64mime
import email.header
import email.utils
import functools
import io
import os
import pstats
import pwd
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
WORK = Path(tempfile.mkdtemp(prefix="bench-mail-"))
# Dovecot's unprivileged processes walk down to their sockets and the Maildir.
WORK.chmod(0o755)
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'db.sqlite3'}"
os.environ["REDIS_URL"] = ""
os.environ["CONVERGENCE_VAR_DIR"] = str(WORK / "var")
os.environ["CONVERGENCE_STATUS_SNAPSHOT"] = str(WORK / "status" / "snapshot.json")

DEMO_BLUEPRINT = ROOT / "blueprints" / "demo.yaml"
SERVER_CLIENT_ID = "messagerie"
SERVER_CLIENT_SECRET = "messagerie-secret-du-banc-assez-long"
BIG, SMALL = "Archives 2025", "Projets"
PAGE = 50
SUBJECT_WORD, BODY_WORD = "conseil", "photocopieuse"

SUBJECTS = [
    "Conseil de classe de 3e B : ordre du jour",
    "Sortie au musée des Beaux-Arts de Besançon",
    "Réunion parents-professeurs du jeudi",
    "Emploi du temps modifié à partir de lundi",
    "Brevet blanc : surveillances et salles",
    "Commande de manuels pour la rentrée",
    "Projet Erasmus+ : réunion de préparation",
    "Rappel : conseil pédagogique mardi",
    "Absence de M. Faure jeudi matin",
    "Formation ENT : inscriptions ouvertes",
    "Voyage à Strasbourg : autorisations parentales",
    "Cantine : menus de la semaine",
    "Salle informatique réservée pour les 4e",
    "Compte rendu du conseil d'administration",
    "Orientation : fiches de dialogue",
    "Exercice incendie vendredi à 10 h",
    "Devoirs de mathématiques de la 5e A",
    "Stage de 3e : conventions à signer",
    "Note de service du rectorat",
    "Remplacement de Mme Lefèvre",
]
SENDERS = [
    ("Philippe Girard", "philippe.girard@ac-besancon.fr"),
    ("Nadia Haddad", "nadia.haddad@ac-besancon.fr"),
    ("Rectorat de Besançon", "ce.rectorat@ac-besancon.fr"),
    ("Vie scolaire", "vie-scolaire.0250013d@ac-besancon.fr"),
    ("Hélène Roussel", "helene.roussel@ac-besancon.fr"),
    ("Julien Moreau", "julien.moreau@ac-besancon.fr"),
    ("Sébastien Faure", "sebastien.faure@ac-besancon.fr"),
    ("Intendance du collège", "intendance.0250013d@ac-besancon.fr"),
]
PARAGRAPHS = [
    "Je vous rappelle que les notes du trimestre doivent être saisies avant vendredi soir.",
    "Merci de bien vouloir confirmer votre présence par retour de message.",
    "Vous trouverez ci-dessous les informations pratiques pour la journée.",
    "Les élèves de 4e B seront accompagnés par deux professeurs et un assistant d'éducation.",
    "La salle 112 est indisponible cette semaine : les cours ont lieu au CDI.",
    "Le bus partira à 8 h 15 du parking du collège ; retour prévu vers 17 h.",
    "N'hésitez pas à me contacter si vous avez la moindre question.",
    "Le compte rendu sera diffusé à l'ensemble de l'équipe pédagogique.",
    "Les autorisations signées sont à rapporter au secrétariat avant le 12.",
    "Pensez à mettre à jour le cahier de textes dans l'ENT.",
]
RARE = (
    "La photocopieuse de la salle des professeurs est de nouveau en panne, le technicien "
    "passe mardi."
)
GREETINGS = ["Bonjour,", "Bonjour à tous,", "Chère collègue,", "Madame,"]
SIGNATURES = ["Bien cordialement,", "Cordialement,", "Bonne journée,", "Merci d'avance,"]
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
) * 8


def _encoded(text: str) -> str:
    return email.header.Header(text, "utf-8").encode()


def _address(name: str, address: str) -> str:
    return f"{_encoded(name)} <{address}>"


def generate(index: int, when: float, rng: random.Random) -> bytes:
    """One realistic small message of the académie (about 0.7 to 3 kB)."""
    name, address = SENDERS[index % len(SENDERS)]
    subject = SUBJECTS[rng.randrange(len(SUBJECTS))]
    paragraphs = rng.sample(PARAGRAPHS, rng.randint(2, 4))
    if rng.random() < 0.01:
        paragraphs.insert(1, RARE)
    text = "\n\n".join([rng.choice(GREETINGS), *paragraphs, f"{rng.choice(SIGNATURES)}\n{name}"])
    headers = (
        f"Return-Path: <{address}>\n"
        f"Message-ID: <{index}.{int(when)}@ac-besancon.fr>\n"
        f"Date: {email.utils.formatdate(when, localtime=False)}\n"
        f"From: {_address(name, address)}\n"
        "To: Sophie Bernard <sophie.bernard@ac-besancon.fr>\n"
        f"Subject: {_encoded(subject)}\n"
        "MIME-Version: 1.0\n"
    )
    plain = "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
    if index % 25 == 0:  # a document attached
        attachment = email.base64mime.body_encode(PDF, maxlinelen=76)
        body = (
            'Content-Type: multipart/mixed; boundary="=_m"\n\n--=_m\n'
            f"{plain}{text}\n\n--=_m\n"
            'Content-Type: application/pdf; name="compte-rendu.pdf"\n'
            "Content-Transfer-Encoding: base64\n"
            'Content-Disposition: attachment; filename="compte-rendu.pdf"\n\n'
            f"{attachment}--=_m--\n"
        )
    elif index % 5 == 0:  # written in a mail client that sends HTML too
        html = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in text.split("\n\n"))
        body = (
            'Content-Type: multipart/alternative; boundary="=_a"\n\n--=_a\n'
            f"{plain}{text}\n\n--=_a\n"
            "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
            f'<html><body style="font-family: Arial">{html}</body></html>\n--=_a--\n'
        )
    else:
        body = f"{plain}{text}\n"
    return (headers + body).encode()


def fill(maildir: Path, count: int, uid: int, gid: int, seed: int) -> int:
    """Write ``count`` messages into the Maildir folder ``maildir`` (its ``cur/``, names in
    arrival order, modification times as INTERNALDATE, most seen, some flagged), owned by the
    mail user; returns the bytes written."""
    rng = random.Random(seed)
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
        os.chown(maildir / sub, uid, gid)
    os.chown(maildir, uid, gid)
    cur = maildir / "cur"
    written = 0
    start = time.time() - count * 300 - 3600
    for index in range(count):
        when = start + index * 300  # one message every five minutes
        raw = generate(index, when, rng)
        flags = "S"
        if count - index <= 30 or rng.random() < 0.05:
            flags = ""
        if rng.random() < 0.02:
            flags = "F" + flags
        virtual_size = len(raw) + raw.count(b"\n")  # with CRLF, as IMAP counts
        name = (
            f"{int(when)}.M{index % 1000000}P{seed}Q{index}.bench"
            f",S={len(raw)},W={virtual_size}:2,{flags}"
        )
        descriptor = os.open(cur / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(descriptor, raw)
            os.fchown(descriptor, uid, gid)
            os.utime(descriptor, (when, when))
        finally:
            os.close(descriptor)
        written += len(raw)
    return written


# --- Measuring -------------------------------------------------------------------------------


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) * 1000


def median(values: list[float]) -> float:
    return statistics.median(values)


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 2 else max(values)


def paired_ratio(numerators: list[float], denominators: list[float]) -> float:
    """The median of each round's ratio (the rounds alternate: the machine is shared)."""
    return statistics.median(n / d for n, d in zip(numerators, denominators, strict=True))


def per_second(client: Any, path: str, seconds: float = 0.5) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        client.get(path)
        count += 1
    return count / (time.perf_counter() - start)


def verdict(ratio: float, target: float) -> str:
    return "atteint" if ratio <= target else "NON ATTEINT"


def ratio_line(label: str, ratio: float, target: float | None = None) -> None:
    goal = f" (target ≤ {target} x: {verdict(ratio, target)})" if target is not None else ""
    print(f"  {label}: {ratio:.2f} x{goal}")


def load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


class Row:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, label: str, values: list[float], note: str = "") -> None:
        self.lines.append(
            f"  {label:58} {median(values):8.2f} ms  p90 {p90(values):8.2f} ms  {note}"
        )

    def show(self) -> None:
        print("\n".join(self.lines))
        self.lines.clear()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000, help="the large folder")
    parser.add_argument("--small", type=int, default=1_000, help="the small folder")
    parser.add_argument("--repeat", type=int, default=30, help="rounds per measure")
    parser.add_argument("--search-repeat", type=int, default=5, help="rounds per search")
    parser.add_argument("--profile", action="store_true", help="cProfile the webmail's side")
    parser.add_argument("--keep", action="store_true", help=f"keep {WORK}")
    options = parser.parse_args()

    from deploy.mail.dovecot import Dovecot, dovecot_binary

    if dovecot_binary() is None:
        sys.exit("bench/mail.py needs Dovecot (dovecot-imapd dovecot-lmtpd dovecot-sieve).")
    if os.geteuid() != 0:
        sys.exit("bench/mail.py runs as root: Dovecot's mail user owns the Maildir.")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0)
    from convergence.accounts.models import User
    from convergence.core.blueprints import apply
    from convergence.core.models import Academie

    if not Academie.objects.exists():
        Academie.objects.create(
            name="Académie de Besançon", official_host="testserver", mail_domain="ac-besancon.fr"
        )
    call_command("load_blueprint", str(DEMO_BLUEPRINT), quiet_notes=True, stdout=io.StringIO())
    apply(
        {
            "server_clients": [
                {
                    "client_id": SERVER_CLIENT_ID,
                    "name": "Serveur de messagerie",
                    "client_secret": SERVER_CLIENT_SECRET,
                }
            ]
        }
    )
    person = User.objects.get(first_name="Sophie", last_name="Bernard")

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    portal = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    portal.set_app(get_wsgi_application())
    threading.Thread(target=portal.serve_forever, daemon=True).start()
    portal_url = f"http://127.0.0.1:{portal.server_address[1]}"

    server = Dovecot(
        directory=WORK / "dovecot",
        portal_url=portal_url,
        client_id=SERVER_CLIENT_ID,
        client_secret=SERVER_CLIENT_SECRET,
        auth_failure_delay="0",
        timeout_seconds=5,
    )
    server.render()
    try:
        return run(options, server, person, settings)
    finally:
        from convergence.mail import connections

        connections.reset()
        server.stop()
        portal.shutdown()
        if options.keep:
            print(f"kept: {WORK}")
        else:
            shutil.rmtree(WORK, ignore_errors=True)


def run(options: argparse.Namespace, server: Any, person: Any, settings: Any) -> int:
    import imapclient
    from django.test import Client
    from django.utils.html import escape

    from convergence.mail import connections, mailbox, rendering
    from convergence.sso.actions import issue_first_party_token

    print(f"Machine: {os.cpu_count()} CPUs, {load()} before the run")
    owner = pwd.getpwnam("mail")
    home = (server.mail_root or server.directory) / "mail" / person.login
    started = time.perf_counter()
    size = fill(home / f".{BIG}", options.messages, owner.pw_uid, owner.pw_gid, seed=16)
    size += fill(home / f".{SMALL}", options.small, owner.pw_uid, owner.pw_gid, seed=17)
    fill(home, 0, owner.pw_uid, owner.pw_gid, seed=18)  # the INBOX, empty
    fill_seconds = time.perf_counter() - started
    # As for a mailbox whose last delivery was a while ago: Dovecot rescans a Maildir whose
    # directories changed recently at every SELECT.
    quiet = time.time() - 3600
    for folder in (home, home / f".{BIG}", home / f".{SMALL}"):
        for sub in ("cur", "new", "tmp"):
            os.utime(folder / sub, (quiet, quiet))
        os.utime(folder, (quiet, quiet))
    print(
        f"Fill: {options.messages:,} + {options.small:,} messages "
        f"({size / 1e6:.0f} MB) written into {home} in {fill_seconds:.1f} s"
    )
    server.start(timeout=15)
    settings.MAIL_IMAP_HOST = "127.0.0.1"
    settings.MAIL_IMAP_PORT = server.imap_port
    settings.MAIL_IMAP_SECURITY = "none"
    settings.MAIL_TIMEOUT_SECONDS = 60  # the first SELECT indexes 100,000 files
    settings.MAIL_PAGE_SIZE = PAGE

    def webmail_page(folder: str) -> mailbox.Page:
        with connections.session(person) as connection:
            return mailbox.page(connection, folder)

    started = time.perf_counter()
    first = webmail_page(BIG)
    index_seconds = time.perf_counter() - started
    assert first.total == options.messages and len(first.messages) == PAGE, first.total
    started = time.perf_counter()
    assert webmail_page(SMALL).total == options.small
    small_index_seconds = time.perf_counter() - started
    print(
        f"Indexing by Dovecot at the first SELECT + first page (warm-up, not measured): "
        f"{index_seconds:.1f} s for {options.messages:,}, {small_index_seconds:.2f} s for "
        f"{options.small:,}"
    )

    # The imap process that indexed a folder from scratch rescans its whole Maildir at each
    # later SELECT (about 0.5 µs a message); new processes do not. A mailbox that grows by
    # deliveries is never in that state: start again from there.
    with connections.session(person) as connection:
        for folder in (BIG, SMALL):
            connection.client.select_folder(folder)  # read-write: the index is written
    connections.reset()
    server.stop()
    server.start(timeout=15)

    token, _expires = issue_first_party_token(
        user=person,
        client_id=settings.MAIL_WEBMAIL_CLIENT_ID,
        name="Banc",
        scope="mail",
        seconds=3600,
    )
    raw = imapclient.IMAPClient("127.0.0.1", port=server.imap_port, ssl=False, timeout=60)
    raw.oauth2_login(person.login, token)

    def raw_sort_fetch(folder: str, *, select: bool) -> int:
        if select:
            raw.select_folder(folder, readonly=True)
        uids = raw.sort(["REVERSE ARRIVAL"])[:PAGE]
        return len(raw.fetch(uids, mailbox.SUMMARY_ITEMS))

    def raw_sequence_fetch(folder: str) -> int:
        exists = int(raw.select_folder(folder, readonly=True)[b"EXISTS"])
        raw.use_uid = False
        try:
            return len(raw.fetch(list(range(exists - PAGE + 1, exists + 1)), mailbox.SUMMARY_ITEMS))
        finally:
            raw.use_uid = True

    # (a) and (b) -------------------------------------------------------------------------
    samples: dict[str, list[float]] = {key: [] for key in ("big", "small", "raw_big", "raw_small")}
    samples |= {"raw_big_selected": [], "raw_small_selected": [], "seq_big": []}
    samples |= {"big_open": [], "small_open": []}
    for _ in range(5):  # warm-up
        webmail_page(BIG), webmail_page(SMALL)
        raw_sort_fetch(BIG, select=True), raw_sort_fetch(SMALL, select=True)
    print(f"\n(a, b) first page, {PAGE} messages (median of {options.repeat} rounds, {load()}):")
    for _ in range(options.repeat):
        samples["big"].append(timed(lambda: webmail_page(BIG)))
        samples["small"].append(timed(lambda: webmail_page(SMALL)))
        samples["raw_big"].append(timed(lambda: raw_sort_fetch(BIG, select=True)))
        samples["raw_small"].append(timed(lambda: raw_sort_fetch(SMALL, select=True)))
        samples["seq_big"].append(timed(lambda: raw_sequence_fetch(BIG)))
        # A person's next page of the same folder: the pooled connection keeps it open.
        webmail_page(BIG)
        samples["big_open"].append(timed(lambda: webmail_page(BIG)))
        webmail_page(SMALL)
        samples["small_open"].append(timed(lambda: webmail_page(SMALL)))
        raw.select_folder(BIG, readonly=True)
        samples["raw_big_selected"].append(timed(lambda: raw_sort_fetch(BIG, select=False)))
        raw.select_folder(SMALL, readonly=True)
        samples["raw_small_selected"].append(timed(lambda: raw_sort_fetch(SMALL, select=False)))
    rows = Row()
    rows.add(f"webmail mailbox.page(), {options.messages:,}", samples["big"])
    rows.add(f"webmail mailbox.page(), {options.small:,}", samples["small"])
    rows.add(f"webmail next page, folder kept open, {options.messages:,}", samples["big_open"])
    rows.add(f"webmail next page, folder kept open, {options.small:,}", samples["small_open"])
    rows.add(f"raw EXAMINE + SORT + FETCH, {options.messages:,}", samples["raw_big"])
    rows.add(f"raw EXAMINE + SORT + FETCH, {options.small:,}", samples["raw_small"])
    rows.add(
        f"raw SORT + FETCH (already selected), {options.messages:,}", samples["raw_big_selected"]
    )
    rows.add(
        f"raw SORT + FETCH (already selected), {options.small:,}", samples["raw_small_selected"]
    )
    rows.add(f"raw EXAMINE + FETCH by sequence, {options.messages:,}", samples["seq_big"])
    rows.show()
    scale = paired_ratio(samples["big"], samples["small"])
    versus_raw = paired_ratio(samples["big"], samples["raw_big"])
    versus_selected = paired_ratio(samples["big"], samples["raw_big_selected"])
    versus_sequence = paired_ratio(samples["big"], samples["seq_big"])
    small_versus_raw = paired_ratio(samples["small"], samples["raw_small"])
    big, small = f"{options.messages:,}", f"{options.small:,}"
    ratio_line(f"(a) page {big} / page {small}", scale, 1.5)
    ratio_line(
        f"    next page, folder kept open, {big} / {small}",
        paired_ratio(samples["big_open"], samples["small_open"]),
        1.5,
    )
    ratio_line(f"(b) page / raw EXAMINE + SORT + FETCH, {big}", versus_raw, 1.3)
    ratio_line(f"    page / raw SORT + FETCH already selected, {big}", versus_selected)
    ratio_line(
        f"    page / raw EXAMINE + FETCH by sequence (the page's own), {big}", versus_sequence
    )
    ratio_line(f"    page / raw EXAMINE + SORT + FETCH, {small}", small_versus_raw)

    # (c) ---------------------------------------------------------------------------------
    raw.select_folder(BIG, readonly=True)
    exists = options.messages
    raw.use_uid = False
    try:
        newest = raw.fetch(list(range(exists - 60, exists + 1)), [b"UID", b"BODYSTRUCTURE"])
    finally:
        raw.use_uid = True
    kinds: dict[str, int] = {}  # one recent message of each shape
    for _sequence, data in sorted(newest.items(), reverse=True):
        structure = data[b"BODYSTRUCTURE"]
        kind = "plain" if not structure.is_multipart else structure[1].decode().lower()
        kinds.setdefault(kind, int(data[b"UID"]))

    def part_url(part_id: str) -> str:
        return f"/messagerie/message/1/partie/{part_id}/?dossier=x&affichage=1"

    def webmail_open(uid: int, *, render: bool) -> None:
        with connections.session(person) as connection:
            fetched = mailbox.fetch_message(connection, BIG, uid, mark_seen=True)
        if render:
            rendering.render_message(fetched.raw, allow_remote=False, part_url=part_url)

    def raw_open(uid: int, *, select: bool) -> int:
        if select:
            raw.select_folder(BIG, readonly=True)
        return len(raw.fetch([uid], [b"BODY.PEEK[]"])[uid][b"BODY[]"])

    print(f"\n(c) opening a message of the {options.messages:,} folder ({load()}):")
    results_c: list[tuple[str, float, float]] = []
    for kind, uid in sorted(kinds.items()):
        size = raw_open(uid, select=True)
        for _ in range(5):
            webmail_open(uid, render=True), raw_open(uid, select=False)
        opened: dict[str, list[float]] = {"fetch": [], "render": [], "raw": [], "raw_select": []}
        open_rendered = functools.partial(webmail_open, uid, render=True)
        open_only = functools.partial(webmail_open, uid, render=False)
        raw_selecting = functools.partial(raw_open, uid, select=True)
        raw_selected = functools.partial(raw_open, uid, select=False)
        for _ in range(options.repeat):
            opened["render"].append(timed(open_rendered))
            opened["fetch"].append(timed(open_only))
            opened["raw_select"].append(timed(raw_selecting))
            opened["raw"].append(timed(raw_selected))
        rows.add(f"{kind} ({size:,} B): fetch_message + render_message", opened["render"])
        rows.add(f"{kind}: fetch_message alone", opened["fetch"])
        rows.add(f"{kind}: raw EXAMINE + FETCH BODY.PEEK[]", opened["raw_select"])
        rows.add(f"{kind}: raw FETCH BODY.PEEK[] (already selected)", opened["raw"])
        results_c.append(
            (
                kind,
                paired_ratio(opened["render"], opened["raw"]),
                paired_ratio(opened["fetch"], opened["raw"]),
            )
        )
    rows.show()
    for kind, whole, fetch_only in results_c:
        print(
            f"  (c) {kind}: open / raw FETCH: {whole:.2f} x (target ≤ 1.3 x: "
            f"{verdict(whole, 1.3)}); fetch_message alone / raw FETCH: {fetch_only:.2f} x"
        )

    # (d) ---------------------------------------------------------------------------------
    client = Client()
    client.force_login(person)
    print(
        "\n(d) pages per second, Django's test client signed in, alternating with the bare "
        f"view ({load()}):"
    )
    for folder, count in ((BIG, options.messages), (SMALL, options.small)):
        path = f"/messagerie/?{urlencode({'dossier': folder})}"
        response = client.get(path)
        assert response.status_code == 200, response.status_code
        newest = webmail_page(folder).messages[0].subject
        assert escape(newest) in response.content.decode(), "the newest message is not listed"
        for _ in range(10):
            client.get(path), client.get("/bench/bare/")
        pages, bares = [], []
        for _ in range(8):
            bares.append(per_second(client, "/bench/bare/"))
            pages.append(per_second(client, path))
        ratio = statistics.median(p / b for p, b in zip(pages, bares, strict=True))
        print(
            f"  /messagerie/, {count:>7,} messages: {median(pages):6.0f} /s "
            f"({1000 / median(pages):.1f} ms), bare {median(bares):6.0f} /s: {ratio:.3f} x"
        )

    def webmail_search(query: mailbox.SearchQuery) -> mailbox.Page:
        with connections.session(person) as connection:
            return mailbox.search(connection, BIG, query)

    # (e) ---------------------------------------------------------------------------------
    print(f"\n(e) server-side search over {options.messages:,} messages ({load()}):")
    for label, query, criteria in (
        (
            f"subject « {SUBJECT_WORD} »",
            mailbox.SearchQuery(subject=SUBJECT_WORD),
            ["SUBJECT", SUBJECT_WORD],
        ),
        (f"body « {BODY_WORD} »", mailbox.SearchQuery(body=BODY_WORD), ["BODY", BODY_WORD]),
    ):
        search = functools.partial(webmail_search, query)
        raw_search = functools.partial(raw.sort, ["REVERSE ARRIVAL"], criteria)

        started = time.perf_counter()
        found = search()
        first_ms = (time.perf_counter() - started) * 1000
        times = [timed(search) for _ in range(options.search_repeat)]
        raw.select_folder(BIG, readonly=True)
        raw_times = [timed(raw_search) for _ in range(options.search_repeat)]
        print(
            f"  {label:24} {found.total:6,} found: first {first_ms:7.0f} ms, then median "
            f"{median(times):7.0f} ms (raw SORT with the criterion: {median(raw_times):7.0f} ms)"
        )

    if options.profile:
        profile(lambda: webmail_page(BIG), "webmail_page")
        uid = kinds.get("alternative") or next(iter(kinds.values()))
        profile(lambda: webmail_open(uid, render=True), "webmail_open")
    raw.logout()
    print(f"\nAfter the run: {load()}")
    return 0


def profile(work: Callable[[], object], label: str, rounds: int = 300) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        work()
    profiler.disable()
    print(f"\ncProfile of {label} x {rounds} (by own time):")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(18)


if __name__ == "__main__":
    sys.exit(main())
