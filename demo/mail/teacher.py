"""The demo teacher's own mail settings, made once when the demo's mail servers first start:
the « Ne suivre que les messages de mon chef d'établissement » rule, a vacation reply for the
next two weeks, and an address book (contacts outside the académie, a group).

The rules are the portal's own (``convergence.mail.rules_actions`` prepares them from the
directory, ``convergence.mail.sieve`` writes them), stored where the demo's ManageSieve keeps
a person's active script (:mod:`demo.mail.sieve`), so the webmail reads them back as if the
teacher had saved them; the contacts go through the address book's actions.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import mailbox
from pathlib import Path

from django.utils import formats, timezone, translation

from convergence.accounts.models import User
from convergence.mail import contacts_actions, rules_actions, sieve
from convergence.mail.contacts_actions import ContactError
from demo.mail.sieve import NamedFilterSet

logger = logging.getLogger(__name__)

TEACHER_ADDRESS = "sophie.bernard@{domain}"
SCRIPT_NAME = "convergence"
MARKER = ".convergence-demo-settings"
VACATION_DAYS = 14

CONTACTS = (
    ("Éditions Hatier — service enseignants", "enseignants@hatier.example", "Hatier"),
    ("Musée des Beaux-Arts de Besançon — réservations", "reservations@mbaa.example", "Musée"),
    ("Association sportive du collège", "as-victor-hugo@asso.example", ""),
    ("Transports Ginko — groupes scolaires", "groupes@ginko.example", "Ginko"),
)
GROUP = "Sortie au musée (4e B)"
GROUP_MEMBERS = ("reservations@mbaa.example", "groupes@ginko.example")


def prepare_teacher(base_dir: Path, *, domain: str) -> bool:
    """Give the demo teacher her rule, vacation reply and contacts, once; False when already
    done or when she is not in the database."""
    person = User.objects.filter(email=TEACHER_ADDRESS.format(domain=domain)).first()
    if person is None:
        return False
    home = base_dir / person.login
    if (home / MARKER).exists():
        return False
    _write_script(home, person)
    _fill_address_book(person)
    (home / MARKER).write_text(timezone.now().isoformat(), encoding="utf-8")
    return True


def _write_script(home: Path, person: User) -> None:
    template = next(item for item in rules_actions.templates() if item.slug == "chef")
    rules = [rules_actions.prepare_rule(person, rule) for rule in (*template.first, *template.last)]
    today = timezone.localdate()
    vacation = rules_actions.prepare_vacation(
        person,
        sieve.Vacation(
            subject="Absente jusqu'au " + _french_date(today + datetime.timedelta(VACATION_DAYS)),
            text=(
                "Bonjour,\n\nJe suis en formation et je lirai votre message à mon retour. "
                "Pour une urgence, écrivez à la vie scolaire du collège.\n\nSophie Bernard"
            ),
            from_address="",
            addresses=(),
            start=today,
            end=today + datetime.timedelta(VACATION_DAYS),
        ),
    )
    script = sieve.render_script(
        sieve.Script(managed=sieve.Managed(rules=tuple(rules), vacation=vacation))
    )
    # The folder the rule files into exists before the first message is filed there (the
    # webmail creates it over IMAP when a person saves such a rule).
    mailbox.Maildir(home, create=True).add_folder(rules_actions.OTHERS_FOLDER)
    scripts = NamedFilterSet(str(home))
    asyncio.run(scripts.put(SCRIPT_NAME, script.encode()))
    asyncio.run(scripts.set_active(SCRIPT_NAME))


def _fill_address_book(person: User) -> None:
    saved = {}
    for name, address, organisation in CONTACTS:
        try:
            saved[address] = contacts_actions.save_contact(
                owner=person, address=address, name=name, organisation=organisation
            )
        except ContactError:
            logger.info("Contact de démonstration déjà présent : %s", address)
    try:
        group = contacts_actions.create_group(owner=person, name=GROUP)
    except ContactError:
        return
    for address in GROUP_MEMBERS:
        if address in saved:
            contacts_actions.add_to_group(owner=person, group=group, contact=saved[address])


def _french_date(day: datetime.date) -> str:
    with translation.override("fr"):
        return formats.date_format(day, "j F")
