"""Every write of the address book: contacts, groups, vCard imports, and the addresses
remembered after sending.

Each action is keyword-only, owns its transaction and, where it matters (an import, a
deletion), its audit entry. Counts are limited per person (``MAIL_CONTACTS_MAX``,
``MAIL_CONTACT_GROUPS_MAX``, ``MAIL_COLLECTED_ADDRESSES_MAX``): the person's own row is
locked first, so parallel requests cannot pass a limit together, and a refusal is a French
:class:`ContactError` with nothing written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from convergence.accounts.models import User
from convergence.audit.actions import record_event
from convergence.mail import compose, events, vcard
from convergence.mail.models import CollectedAddress, Contact, ContactGroup

logger = logging.getLogger(__name__)


class ContactError(ValueError):
    """A refusal to show the person, in French; nothing was written."""


def _lock(person: User) -> None:
    """Serialise a person's address-book writes on their own row (limits stay exact)."""
    User.objects.select_for_update().filter(pk=person.pk).first()


def _clean(value: str, limit: int) -> str:
    return " ".join(value.split())[:limit]


def _too_many_contacts() -> ContactError:
    return ContactError(
        _(
            "Votre carnet d'adresses compte déjà %(count)d contacts, le maximum : supprimez-en "
            "avant d'en ajouter d'autres."
        )
        % {"count": settings.MAIL_CONTACTS_MAX}
    )


# --- Contacts ---------------------------------------------------------------------------------


def save_contact(
    *,
    owner: User,
    address: str,
    name: str = "",
    phone: str = "",
    organisation: str = "",
    note: str = "",
    contact: Contact | None = None,
) -> Contact:
    """Add a contact (``contact`` None) or change one of ``owner``'s. An address already in
    the book is refused; the limit on contacts is checked when adding."""
    address = address.strip().lower()
    with transaction.atomic():
        _lock(owner)
        duplicate = Contact.objects.filter(owner=owner, address=address)
        if contact is not None:
            duplicate = duplicate.exclude(pk=contact.pk)
        if duplicate.exists():
            raise ContactError(_("Cette adresse est déjà dans vos contacts."))
        if contact is None:
            if Contact.objects.filter(owner=owner).count() >= settings.MAIL_CONTACTS_MAX:
                raise _too_many_contacts()
            contact = Contact(owner=owner)
        elif contact.owner_id != owner.pk:
            raise ContactError(_("Ce contact n'existe pas."))
        contact.address = address
        contact.name = _clean(name, 120)
        contact.phone = _clean(phone, 30)
        contact.organisation = _clean(organisation, 120)
        contact.note = note.strip()[:500]
        contact.save()
        # Now a contact: no longer among the addresses merely written to.
        CollectedAddress.objects.filter(owner=owner, address=address).delete()
    return contact


def delete_contact(*, owner: User, contact: Contact, request: HttpRequest | None = None) -> None:
    """Remove one of ``owner``'s contacts (and from their groups); audited."""
    with transaction.atomic():
        deleted, _detail = Contact.objects.filter(owner=owner, pk=contact.pk).delete()
        if deleted:
            record_event(
                event_type=events.CONTACT_DELETED,
                request=request,
                actor=owner,
                subject=owner,
                data={"contact": contact.pk},
            )


# --- Groups -----------------------------------------------------------------------------------


def _group_name(name: str) -> str:
    cleaned = _clean(name, 80)
    if not cleaned:
        raise ContactError(_("Donnez un nom au groupe."))
    return cleaned


def create_group(*, owner: User, name: str) -> ContactGroup:
    """A new, empty group of ``owner``'s contacts (names unique per person)."""
    name = _group_name(name)
    with transaction.atomic():
        _lock(owner)
        if ContactGroup.objects.filter(owner=owner).count() >= settings.MAIL_CONTACT_GROUPS_MAX:
            raise ContactError(
                _("Vous avez déjà %(count)d groupes, le maximum : supprimez-en un d'abord.")
                % {"count": settings.MAIL_CONTACT_GROUPS_MAX}
            )
        if ContactGroup.objects.filter(owner=owner, name__iexact=name).exists():
            raise ContactError(_("Vous avez déjà un groupe de ce nom."))
        return ContactGroup.objects.create(owner=owner, name=name)


def rename_group(*, owner: User, group: ContactGroup, name: str) -> ContactGroup:
    name = _group_name(name)
    with transaction.atomic():
        _lock(owner)
        if (
            ContactGroup.objects.filter(owner=owner, name__iexact=name)
            .exclude(pk=group.pk)
            .exists()
        ):
            raise ContactError(_("Vous avez déjà un groupe de ce nom."))
        updated = ContactGroup.objects.filter(owner=owner, pk=group.pk).update(name=name)
        if not updated:
            raise ContactError(_("Ce groupe n'existe pas."))
    group.name = name
    return group


def set_group_members(*, owner: User, group: ContactGroup, contact_ids: Iterable[int]) -> int:
    """Make ``group``'s members exactly those of ``contact_ids`` that are ``owner``'s own
    contacts (others are ignored); how many members it now has."""
    if group.owner_id != owner.pk:
        raise ContactError(_("Ce groupe n'existe pas."))
    with transaction.atomic():
        members = list(Contact.objects.filter(owner=owner, pk__in=list(contact_ids)))
        group.members.set(members)
    return len(members)


def add_to_group(*, owner: User, group: ContactGroup, contact: Contact) -> None:
    if group.owner_id != owner.pk or contact.owner_id != owner.pk:
        raise ContactError(_("Ce groupe n'existe pas."))
    group.members.add(contact)


def remove_from_group(*, owner: User, group: ContactGroup, contact: Contact) -> None:
    if group.owner_id != owner.pk:
        raise ContactError(_("Ce groupe n'existe pas."))
    group.members.remove(contact)


def delete_group(*, owner: User, group: ContactGroup, request: HttpRequest | None = None) -> None:
    """Remove a group (its contacts stay in the book); audited."""
    with transaction.atomic():
        deleted, _detail = ContactGroup.objects.filter(owner=owner, pk=group.pk).delete()
        if deleted:
            record_event(
                event_type=events.CONTACT_GROUP_DELETED,
                request=request,
                actor=owner,
                subject=owner,
                data={"group": group.pk, "name": group.name},
            )


# --- vCard import -----------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    problems: list[vcard.Problem] = field(default_factory=list)


def import_vcards(
    *,
    owner: User,
    data: bytes,
    group: ContactGroup | None = None,
    request: HttpRequest | None = None,
) -> ImportReport:
    """Import the cards of a vCard file into ``owner``'s contacts (and ``group`` if given).

    A card whose address is already a contact updates it (the fields the card fills); a new
    one is added. Cards that cannot be read are left out and reported with their line; a
    second card with the same address too. The whole file is refused — nothing written —
    if it is too big, holds too many cards, or would take the book past
    ``MAIL_CONTACTS_MAX``. One transaction; audited with the counts."""
    if len(data) > settings.MAIL_VCARD_IMPORT_MAX_KB * 1024:
        raise ContactError(
            _("Le fichier dépasse %(size)d Ko : découpez-le.")
            % {"size": settings.MAIL_VCARD_IMPORT_MAX_KB}
        )
    try:
        parsed = vcard.parse(vcard.decode(data), max_cards=settings.MAIL_VCARD_IMPORT_MAX_CARDS)
    except vcard.VCardError as error:
        raise ContactError(str(error)) from None
    report = ImportReport(problems=list(parsed.problems))
    by_address: dict[str, vcard.Card] = {}
    for card in parsed.cards:
        address = card.address.lower()
        if address in by_address:
            report.problems.append(
                vcard.Problem(
                    card.line,
                    _("l'adresse %(address)s figure déjà dans la fiche de la ligne %(line)d.")
                    % {"address": address, "line": by_address[address].line},
                )
            )
            continue
        by_address[address] = card
    report.problems.sort(key=lambda problem: problem.line)
    with transaction.atomic():
        _lock(owner)
        if group is not None and group.owner_id != owner.pk:
            raise ContactError(_("Ce groupe n'existe pas."))
        existing = {
            contact.address.lower(): contact
            for contact in Contact.objects.filter(owner=owner, address__in=list(by_address))
        }
        new = [address for address in by_address if address not in existing]
        total = Contact.objects.filter(owner=owner).count() + len(new)
        if total > settings.MAIL_CONTACTS_MAX:
            raise ContactError(
                _(
                    "Ce fichier ajouterait %(new)d contacts ; votre carnet en compterait "
                    "%(total)d, plus que le maximum de %(max)d. Rien n'a été importé."
                )
                % {"new": len(new), "total": total, "max": settings.MAIL_CONTACTS_MAX}
            )
        touched: list[Contact] = []
        for address, card in by_address.items():
            contact = existing.get(address) or Contact(owner=owner, address=address)
            contact.name = card.name or contact.name
            contact.phone = card.phone or contact.phone
            contact.organisation = card.organisation or contact.organisation
            contact.note = card.note or contact.note
            contact.updated_at = timezone.now()
            touched.append(contact)
        to_create = [contact for contact in touched if contact.pk is None]
        to_update = [contact for contact in touched if contact.pk is not None]
        try:
            Contact.objects.bulk_create(to_create, batch_size=500)
        except IntegrityError:
            raise ContactError(
                _("Le carnet d'adresses a changé pendant l'import : réessayez.")
            ) from None
        Contact.objects.bulk_update(
            to_update, ["name", "phone", "organisation", "note", "updated_at"], batch_size=500
        )
        if group is not None and touched:
            saved = Contact.objects.filter(owner=owner, address__in=list(by_address))
            group.members.add(*saved)
        CollectedAddress.objects.filter(owner=owner, address__in=list(by_address)).delete()
        report.created, report.updated = len(to_create), len(to_update)
        record_event(
            event_type=events.CONTACTS_IMPORTED,
            request=request,
            actor=owner,
            subject=owner,
            data={
                "created": report.created,
                "updated": report.updated,
                "left_out": len(report.problems),
                "group": group.pk if group is not None else None,
            },
        )
    return report


# --- Addresses written to ---------------------------------------------------------------------


def collect_addresses(*, owner: User, addresses: Iterable[str]) -> int:
    """Remember the addresses ``owner`` just sent to, other than their own and their
    contacts': newest first, ``MAIL_COLLECTED_ADDRESSES_MAX`` kept (the oldest dropped). Called
    once the message has left: a database error here is logged, never raised (the message is
    sent). How many addresses were remembered."""
    wanted = list(dict.fromkeys(address.strip().lower() for address in addresses))
    own = {owner.email.lower(), compose.own_address(owner).lower()}
    wanted = [address for address in wanted if address and address not in own]
    if not wanted:
        return 0
    try:
        with transaction.atomic():
            _lock(owner)
            known = set(
                Contact.objects.filter(owner=owner, address__in=wanted).values_list(
                    "address", flat=True
                )
            )
            wanted = [address for address in wanted if address not in known]
            full_names = {
                found.email.lower(): found.get_full_name()
                for found in User.objects.reachable_by(owner)
                .filter(email__in=wanted)
                .only("email", "first_name", "last_name")
            }
            now = timezone.now()
            seen_before = set(
                CollectedAddress.objects.filter(owner=owner, address__in=wanted).values_list(
                    "address", flat=True
                )
            )
            CollectedAddress.objects.filter(owner=owner, address__in=seen_before).update(
                times_used=F("times_used") + 1, last_used_at=now
            )
            CollectedAddress.objects.bulk_create(
                [
                    CollectedAddress(
                        owner=owner,
                        address=address,
                        name=full_names.get(address, "")[:120],
                        last_used_at=now,
                    )
                    for address in wanted
                    if address not in seen_before
                ]
            )
            keep = settings.MAIL_COLLECTED_ADDRESSES_MAX
            stale = list(
                CollectedAddress.objects.filter(owner=owner)
                .order_by("-last_used_at", "-pk")
                .values_list("pk", flat=True)[keep:]
            )
            if stale:
                CollectedAddress.objects.filter(pk__in=stale).delete()
    except DatabaseError:
        logger.exception("Sent by %s, but the recipients could not be remembered.", owner.pk)
        return 0
    return len(wanted)


def forget_collected_address(*, owner: User, pk: int) -> bool:
    """Drop one remembered address of ``owner``; whether there was one."""
    deleted, _detail = CollectedAddress.objects.filter(owner=owner, pk=pk).delete()
    return bool(deleted)


def forget_all_collected_addresses(*, owner: User) -> int:
    deleted, _detail = CollectedAddress.objects.filter(owner=owner).delete()
    return deleted
