"""The demo mailboxes, seeded at the first start: a fortnight of a French school's mail.

For each person with an address of the académie: a message from their head of school, a note
de service of the rectorat, a colleague's message with a small PDF, an HTML newsletter with
remote images (a tracking pixel), a thread of four messages, a phishing attempt whose link
shows one address and goes to another; some read, one flagged; a reply in Sent. Folders: the
special-use names Sent, Drafts, Trash, Junk, Archive.

Idempotent: a seeded mailbox carries a marker and is never seeded again (a message the person
deleted stays deleted); a seeding cut short is completed without duplicates (Message-ID).
"""

from __future__ import annotations

import asyncio
import datetime
import mailbox
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

from pymap.backend.maildir.uidlist import Record, UidList
from pymap.parsing.specials import ObjectId

FOLDERS = ("Sent", "Drafts", "Trash", "Junk", "Archive")
SEEDED_MARKER = ".convergence-seeded"
PHISHING_DOMAIN = "ac-besancon.fr.secure-login.info"
NEWSLETTER_DOMAIN = "lettre-numerique-educative.example"


@dataclass(frozen=True)
class Person:
    """Whose mailbox is seeded, and how others write to them."""

    login: str
    first_name: str
    last_name: str
    email: str

    @property
    def address(self) -> str:
        return formataddr((f"{self.first_name} {self.last_name}", self.email))


@dataclass(frozen=True)
class Seeded:
    """One message of a seeded mailbox."""

    folder: str  # "INBOX" or one of FOLDERS
    message: EmailMessage
    when: datetime.datetime
    flags: str = ""  # maildir flags: S seen, F flagged, R answered


def people_from_database(domain: str) -> list[Person]:
    """Every person with an address of the académie (``…@domain``), by login."""
    from convergence.accounts.models import User

    users = User.objects.filter(email__iendswith=f"@{domain}").order_by("login")
    return [
        Person(login=u.login, first_name=u.first_name, last_name=u.last_name, email=u.email)
        for u in users
    ]


def maildir_of(base_dir: Path, login: str) -> mailbox.Maildir:
    """The INBOX of ``login`` (Maildir++: folders are ``.Sent``…), created with its folders."""
    inbox = mailbox.Maildir(base_dir / login, create=True)
    for folder in FOLDERS:
        if folder not in inbox.list_folders():
            inbox.add_folder(folder)
    subscriptions = base_dir / login / "subscriptions"
    if not subscriptions.exists():
        subscriptions.write_text("".join(f"{name}\r\n" for name in FOLDERS), encoding="utf-8")
    return inbox


def seed_mailboxes(
    base_dir: Path, people: Iterable[Person], *, domain: str, now: datetime.datetime | None = None
) -> int:
    """Seed the mailbox of each person not seeded yet; the number of messages added."""
    now = now or datetime.datetime.now(datetime.UTC)
    base_dir.mkdir(parents=True, exist_ok=True)
    added = 0
    for person in people:
        marker = base_dir / person.login / SEEDED_MARKER
        if marker.exists():
            continue
        inbox = maildir_of(base_dir, person.login)
        present = _message_ids(inbox)
        filed: dict[str, list[str]] = {}
        items = sorted(messages_for(person, domain=domain, now=now), key=lambda item: item.when)
        for item in items:
            if item.message["Message-ID"] in present:
                continue
            target = inbox if item.folder == "INBOX" else inbox.get_folder(item.folder)
            stored = mailbox.MaildirMessage(item.message)
            stored.set_subdir("cur")
            stored.set_flags(item.flags)
            stored.set_date(item.when.timestamp())
            key = target.add(stored)
            filed.setdefault(item.folder, []).append(f"{key}:{stored.get_info()}")
            added += 1
        for folder, filenames in filed.items():
            path = base_dir / person.login
            if folder != "INBOX":
                path = path / f".{folder}"
            asyncio.run(_number(path, filenames))
        marker.write_text(now.isoformat(), encoding="utf-8")
    return added


async def _number(path: Path, filenames: list[str]) -> None:
    """Give the new messages their UIDs in the order given (by date, as if they had arrived
    one by one); pymap would otherwise number them in directory order at the next SELECT."""
    async with UidList.with_write(str(path)) as uids:
        known = {record.key for record in uids.records}
        for filename in filenames:
            if filename.split(":", 1)[0] in known:
                continue
            fields = {
                "E": str(ObjectId.random_email_id()),
                "T": str(ObjectId.random_thread_id()),
            }
            uids.set(Record(uids.next_uid, fields, filename))
            uids.next_uid += 1


def _message_ids(inbox: mailbox.Maildir) -> set[str]:
    folders = [inbox, *(inbox.get_folder(name) for name in inbox.list_folders())]
    return {
        str(message["Message-ID"])
        for folder in folders
        for message in folder
        if message["Message-ID"]
    }


# --- the messages ------------------------------------------------------------------------------


def _cast(domain: str) -> dict[str, Person]:
    def person(login: str, first: str, last: str) -> Person:
        return Person(login, first, last, f"{login}@{domain}")

    return {
        "head": person("philippe.girard", "Philippe", "Girard"),
        "julien": person("julien.moreau", "Julien", "Moreau"),
        "nadia": person("nadia.haddad", "Nadia", "Haddad"),
        "sophie": person("sophie.bernard", "Sophie", "Bernard"),
        "thierry": person("thierry.roux", "Thierry", "Roux"),
    }


def _others(person: Person, cast: dict[str, Person]) -> tuple[Person, Person]:
    """Two colleagues of ``person`` who are not them (nor their head of school)."""
    colleagues = [
        p for key, p in cast.items() if key != "head" and p.email.lower() != person.email.lower()
    ]
    return colleagues[0], colleagues[1]


def _message(
    *,
    key: str,
    person: Person,
    domain: str,
    sender: str,
    to: str,
    subject: str,
    when: datetime.datetime,
    text: str,
    cc: str = "",
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = format_datetime(when)
    message["Message-ID"] = message_id(key, person, domain)
    message.set_content(text)
    return message


def message_id(key: str, person: Person, domain: str) -> str:
    """The seeded message ``key`` of ``person``: stable, so seeding twice adds nothing."""
    return f"<demo-{key}.{person.login}@{domain}>"


def messages_for(person: Person, *, domain: str, now: datetime.datetime) -> Iterator[Seeded]:
    cast = _cast(domain)
    head = cast["head"]
    first, second = _others(person, cast)
    yield from _head_messages(person, head, domain, now)
    yield _note_de_service(person, domain, now)
    yield _colleague_with_pdf(person, first, domain, now)
    yield _newsletter(person, domain, now)
    yield from _thread(person, first, second, domain, now)
    yield _phishing(person, domain, now)


def _head_messages(
    person: Person, head: Person, domain: str, now: datetime.datetime
) -> Iterator[Seeded]:
    sender = head.address
    if person.email.lower() == head.email.lower():
        sender = formataddr(("Secrétariat du collège Victor-Hugo", f"ce.0250013d@{domain}"))
    when = now - datetime.timedelta(days=1, hours=3)
    invitation = _message(
        key="conseil-pedagogique",
        person=person,
        domain=domain,
        sender=sender,
        to=person.address,
        subject="Conseil pédagogique du jeudi — ordre du jour",
        when=when,
        text=(
            f"Bonjour {person.first_name},\n\n"
            "Le conseil pédagogique se réunira jeudi à 17 h 30 en salle polyvalente du "
            "collège Victor-Hugo.\n\n"
            "Ordre du jour :\n"
            "1. Bilan des évaluations de début d'année en 6e ;\n"
            "2. Projet d'établissement 2026-2030 : axe « réussite de tous les élèves » ;\n"
            "3. Organisation de la semaine des mathématiques ;\n"
            "4. Questions diverses.\n\n"
            "Merci de me faire part de vos propositions avant mercredi midi.\n\n"
            "Bien cordialement,\n\n"
            "Philippe Girard\n"
            "Principal du collège Victor-Hugo (0250013D)\n"
            "Besançon\n"
        ),
    )
    yield Seeded("INBOX", invitation, when, "RS")
    reply_when = when + datetime.timedelta(hours=2)
    reply = _message(
        key="conseil-pedagogique-reponse",
        person=person,
        domain=domain,
        sender=person.address,
        to=sender,
        subject="Re: Conseil pédagogique du jeudi — ordre du jour",
        when=reply_when,
        text=(
            "Bonjour,\n\nJe serai présent·e jeudi. Je propose d'ajouter un point sur "
            "l'usage des outils numériques en classe.\n\nBien cordialement,\n\n"
            f"{person.first_name} {person.last_name}\n"
        ),
    )
    reply["In-Reply-To"] = invitation["Message-ID"]
    reply["References"] = invitation["Message-ID"]
    yield Seeded("Sent", reply, reply_when, "S")


def _note_de_service(person: Person, domain: str, now: datetime.datetime) -> Seeded:
    when = now - datetime.timedelta(days=9, hours=5)
    message = _message(
        key="note-de-service",
        person=person,
        domain=domain,
        sender=formataddr(("Rectorat de Besançon — DRH", f"ce.drh@{domain}")),
        to=formataddr(("Personnels de l'académie", f"personnels@{domain}")),
        subject="Note de service n° 2026-118 : mouvement intra-académique des personnels",
        when=when,
        text=(
            "Madame, Monsieur,\n\n"
            "La présente note de service précise les modalités du mouvement "
            "intra-académique pour la rentrée prochaine.\n\n"
            "Calendrier :\n"
            "- ouverture du serveur de saisie des vœux : lundi 9 h ;\n"
            "- fermeture : trois semaines plus tard, à 12 h ;\n"
            "- publication des résultats : à la mi-juin.\n\n"
            "Les pièces justificatives sont à transmettre par la voie hiérarchique, sous "
            "couvert du chef d'établissement. La note complète est consultable sur le "
            "portail, rubrique « Ressources humaines ».\n\n"
            "Pour le recteur et par délégation,\n"
            "La directrice des ressources humaines\n"
        ),
    )
    return Seeded("INBOX", message, when, "S")


def _colleague_with_pdf(
    person: Person, colleague: Person, domain: str, now: datetime.datetime
) -> Seeded:
    when = now - datetime.timedelta(days=3, hours=6)
    message = _message(
        key="progression-4e",
        person=person,
        domain=domain,
        sender=colleague.address,
        to=person.address,
        subject="Progression commune de 4e (version corrigée)",
        when=when,
        text=(
            f"Salut {person.first_name},\n\n"
            "Voici la progression commune de 4e corrigée après notre réunion d'équipe. "
            "J'ai décalé le chapitre sur le théorème de Pythagore après les vacances.\n\n"
            "Dis-moi si cela te convient.\n\n"
            f"{colleague.first_name}\n"
        ),
    )
    message.add_attachment(
        minimal_pdf("Progression commune 4e - annee 2026-2027"),
        maintype="application",
        subtype="pdf",
        filename="progression-4e.pdf",
    )
    return Seeded("INBOX", message, when, "FS")


def _newsletter(person: Person, domain: str, now: datetime.datetime) -> Seeded:
    when = now - datetime.timedelta(days=5, hours=2)
    site = f"https://www.{NEWSLETTER_DOMAIN}"
    tracker = f"https://suivi.{NEWSLETTER_DOMAIN}/o.gif?u={person.login}&c=2026-47"
    message = _message(
        key="lettre-numerique",
        person=person,
        domain=domain,
        sender=formataddr(("La lettre du numérique éducatif", f"lettre@{NEWSLETTER_DOMAIN}")),
        to=person.address,
        subject="La lettre du numérique éducatif — n° 47 : l'IA en classe, mode d'emploi",
        when=when,
        text=(
            "La lettre du numérique éducatif, n° 47.\n\n"
            "À la une : l'intelligence artificielle en classe, mode d'emploi.\n"
            f"Lire la lettre en ligne : {site}/lettre/47\n"
        ),
    )
    message.add_alternative(
        '<!doctype html><html lang="fr"><body>'
        f'<p><img src="{site}/images/bandeau-47.png" alt="La lettre du numérique éducatif" '
        'width="600" height="120"></p>'
        "<h1>L'intelligence artificielle en classe, mode d'emploi</h1>"
        "<p>Ce mois-ci : trois séquences testées en collège, les repères juridiques à "
        "connaître et un webinaire mercredi à 14 h.</p>"
        f'<p><a href="{site}/lettre/47?utm_source=lettre&amp;utm_medium=courriel">'
        "Lire la lettre en ligne</a></p>"
        f'<p><small><a href="{site}/desinscription?u={person.login}">Se désinscrire</a>'
        "</small></p>"
        f'<img src="{tracker}" alt="" width="1" height="1">'
        "</body></html>",
        subtype="html",
    )
    return Seeded("INBOX", message, when)


def _thread(
    person: Person, first: Person, second: Person, domain: str, now: datetime.datetime
) -> Iterator[Seeded]:
    subject = "Sortie au musée du Temps — organisation"
    steps = [
        (
            first,
            datetime.timedelta(days=7, hours=4),
            "Bonjour à tous,\n\nJe propose d'emmener les 4e B au musée du Temps le mardi "
            "après-midi. Il faudrait trois accompagnateurs. Qui est disponible ?\n",
        ),
        (
            second,
            datetime.timedelta(days=6, hours=22),
            "Bonjour,\n\nJe peux accompagner. Pensez à prévoir les autorisations parentales "
            "au moins dix jours avant.\n",
        ),
        (
            first,
            datetime.timedelta(days=6, hours=18),
            "Merci ! Je prépare les autorisations ce soir et je les dépose en vie scolaire.\n",
        ),
        (
            second,
            datetime.timedelta(days=2, hours=1),
            "Les autorisations sont presque toutes revenues, il en manque trois. "
            "Le car est réservé pour 13 h 15 devant le collège.\n",
        ),
    ]
    references: list[str] = []
    for number, (sender, ago, text) in enumerate(steps, start=1):
        when = now - ago
        message = _message(
            key=f"sortie-musee-{number}",
            person=person,
            domain=domain,
            sender=sender.address,
            to=", ".join(p.address for p in (first, second, person) if p is not sender),
            subject=subject if number == 1 else f"Re: {subject}",
            when=when,
            text=f"{text}\n{sender.first_name}\n",
        )
        if references:
            message["In-Reply-To"] = references[-1]
            message["References"] = " ".join(references)
        references.append(str(message["Message-ID"]))
        yield Seeded("INBOX", message, when, "S" if number < len(steps) else "")


def _phishing(person: Person, domain: str, now: datetime.datetime) -> Seeded:
    when = now - datetime.timedelta(hours=10)
    shown = f"https://messagerie.{domain}/validation"
    target = f"https://{PHISHING_DOMAIN}/owa/validation.php?id={person.login}"
    message = _message(
        key="boite-pleine",
        person=person,
        domain=domain,
        sender=formataddr(("Service informatique", f"support@{PHISHING_DOMAIN}")),
        to=person.address,
        subject="Votre boîte aux lettres est pleine, validez votre compte",
        when=when,
        text=(
            "Cher utilisateur,\n\n"
            "Votre boîte aux lettres a atteint 99 % de sa capacité. Vos nouveaux messages "
            "seront supprimés sous 24 heures si vous ne validez pas votre compte :\n"
            f"{target}\n\nLe service informatique\n"
        ),
    )
    message.add_alternative(
        '<!doctype html><html lang="fr"><body>'
        "<p>Cher utilisateur,</p>"
        "<p>Votre boîte aux lettres a atteint <strong>99 %</strong> de sa capacité. Vos "
        "nouveaux messages seront <strong>supprimés sous 24 heures</strong> si vous ne "
        "validez pas votre compte :</p>"
        f'<p><a href="{target}">{shown}</a></p>'
        "<p>Le service informatique</p>"
        "</body></html>",
        subtype="html",
    )
    return Seeded("INBOX", message, when)


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` (ASCII), written by hand with a correct xref table."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 18 Tf 72 760 Td ({safe}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
