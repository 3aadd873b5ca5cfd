"""Reads of the address book: a person's contacts, groups and remembered addresses, the class
lists of staff who teach, the académie's directory searched by name, establishment and role,
and the compose page's suggestions drawn from all of them.

Who may be found in the directory — and so who is on a class list — is decided by
``User.objects.reachable_by`` alone; this module never widens it.

Class lists: a teacher, CPE or head of school (``CLASS_LIST_ROLES``) this school year gets
« Élèves de la 4e B » and « Parents de la 4e B » for each class of the pupils of the
establishments where they hold that role. The académie's data does not say which classes a
teacher teaches (STS gives none): when their assignment carries a division (or several,
separated by commas), only those classes are theirs; otherwise every class of that
establishment is (docs/mail.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext as _

from convergence.accounts.models import Assignment, Guardianship, Role, User
from convergence.core.models import Establishment
from convergence.mail import compose, directory
from convergence.mail.models import CollectedAddress, Contact, ContactGroup

CLASS_LIST_ROLES = (Role.ENSEIGNANT, Role.CPE, Role.DIRECTION)
PUPILS = "eleves"
PARENTS = "parents"
GROUP = "groupe"
# The compose page's suggestions: lists first (at most this many), then people.
MAX_LIST_SUGGESTIONS = 3
MAX_SUGGESTIONS = 10
DIRECTORY_PAGE_RESULTS = 50
DIRECTORY_ROLES = (
    Role.ENSEIGNANT,
    Role.CPE,
    Role.DIRECTION,
    Role.ADMINISTRATIF,
    Role.AGENT,
    Role.REFERENT,
    Role.DSI,
    Role.ELEVE,
    Role.PARENT,
)


@dataclass(frozen=True)
class Suggestion:
    """One choice offered under an address field: a person, or a list (several addresses,
    put in « Copie cachée »)."""

    name: str
    address: str
    label: str
    addresses: tuple[str, ...] = ()
    key: str = ""

    @property
    def is_list(self) -> bool:
        return bool(self.key)


@dataclass(frozen=True)
class ClassList:
    """The pupils, or the parents of the pupils, of one class of one establishment."""

    kind: str  # PUPILS or PARENTS
    establishment_id: int
    establishment_name: str
    division: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.establishment_id}:{self.division}"

    @property
    def name(self) -> str:
        if self.kind == PUPILS:
            return _("Élèves de la %(division)s") % {"division": self.division}
        return _("Parents de la %(division)s") % {"division": self.division}


@dataclass(frozen=True)
class Mailing:
    """What a list puts in « Copie cachée »: its name and its addresses."""

    name: str
    addresses: list[str]


# --- Personal address book --------------------------------------------------------------------


def contacts_of(person: User) -> models.QuerySet[Contact]:
    return Contact.objects.filter(owner=person).order_by("name", "address")


def groups_of(person: User) -> models.QuerySet[ContactGroup]:
    return (
        ContactGroup.objects.filter(owner=person)
        .annotate(size=models.Count("members"))
        .order_by("name")
    )


def collected_of(person: User) -> models.QuerySet[CollectedAddress]:
    """Addresses ``person`` wrote to, newest first."""
    return CollectedAddress.objects.filter(owner=person).order_by("-last_used_at", "-pk")


# --- Class lists ------------------------------------------------------------------------------


def class_lists(person: User) -> list[ClassList]:
    """The class lists of ``person`` (none for anyone but ``CLASS_LIST_ROLES`` this year):
    pupils then parents of each class, by establishment and class. Two queries."""
    if not person.is_active:
        return []
    held = list(
        Assignment.objects.current()
        .filter(user=person, role__in=CLASS_LIST_ROLES)
        .values_list("establishment_id", "division")
    )
    if not held:
        return []
    # None: every class of that establishment.
    wanted: dict[int, set[str] | None] = {}
    for establishment_id, division in held:
        named = {part.strip() for part in division.split(",") if part.strip()}
        if not named or wanted.get(establishment_id, set()) is None:
            wanted[establishment_id] = None
        else:
            wanted[establishment_id] = (wanted.get(establishment_id) or set()) | named
    rows = (
        Assignment.objects.current()
        .filter(role=Role.ELEVE, establishment_id__in=list(wanted))
        .exclude(division="")
        .values_list("establishment_id", "establishment__name", "division")
        .distinct()
        .order_by("establishment__name", "division")
    )
    lists: list[ClassList] = []
    for establishment_id, establishment_name, division in rows:
        allowed = wanted[establishment_id]
        if allowed is not None and division not in allowed:
            continue
        for kind in (PUPILS, PARENTS):
            lists.append(ClassList(kind, establishment_id, establishment_name, division))
    return lists


def _class_members(person: User, class_list: ClassList) -> models.QuerySet[User]:
    pupils = Assignment.objects.current().filter(
        role=Role.ELEVE,
        establishment_id=class_list.establishment_id,
        division=class_list.division,
    )
    reachable = User.objects.reachable_by(person).exclude(email="")
    if class_list.kind == PUPILS:
        return reachable.filter(pk__in=pupils.values("user"))
    parents = Guardianship.objects.filter(pupil__in=pupils.values("user")).values("parent")
    return reachable.filter(pk__in=parents)


def class_list_addresses(person: User, class_list: ClassList) -> list[str]:
    """The addresses on one of ``person``'s class lists (those ``reachable_by`` them)."""
    return list(
        _class_members(person, class_list)
        .order_by("last_name", "first_name", "pk")
        .values_list("email", flat=True)
    )


def class_list_sizes(person: User, lists: list[ClassList]) -> dict[str, int]:
    """How many addresses each list holds (one query per list; a teacher has a few dozen)."""
    return {one.key: _class_members(person, one).count() for one in lists}


def mailing(person: User, key: str) -> Mailing | None:
    """The list ``key`` names (``groupe:<pk>``, ``eleves:<establishment>:<class>``,
    ``parents:…``) if it is one of ``person``'s, else None."""
    kind, _colon, rest = key.partition(":")
    if kind == GROUP:
        if not rest.isdigit():
            return None
        group = ContactGroup.objects.filter(owner=person, pk=int(rest)).first()
        if group is None:
            return None
        addresses = list(
            group.members.order_by("name", "address").values_list("address", flat=True)
        )
        return Mailing(group.name, addresses)
    if kind in (PUPILS, PARENTS):
        for one in class_lists(person):
            if one.key == key:
                return Mailing(one.name, class_list_addresses(person, one))
    return None


def compose_prefill(request: HttpRequest, person: User) -> dict[str, str]:
    """The compose form's « Copie cachée » from ``?liste=`` (a group or a class list of the
    person), the list's name told in a message; nothing for anything else."""
    from django.contrib import messages

    key = request.GET.get("liste", "")[:200]
    if not key:
        return {}
    found = mailing(person, key)
    if found is None:
        messages.error(request, _("Cette liste de diffusion n'existe pas ou plus."))
        return {}
    if not found.addresses:
        messages.warning(
            request, _("La liste « %(name)s » ne contient aucune adresse.") % {"name": found.name}
        )
        return {}
    if len(found.addresses) > compose.MAX_ADDRESSES:
        messages.error(
            request,
            _(
                "La liste « %(name)s » compte %(count)d adresses ; un message peut en avoir au "
                "plus %(max)d."
            )
            % {"name": found.name, "count": len(found.addresses), "max": compose.MAX_ADDRESSES},
        )
        return {}
    messages.info(
        request,
        _("Liste « %(name)s » : %(count)d adresses en copie cachée.")
        % {"name": found.name, "count": len(found.addresses)},
    )
    return {"cci": ", ".join(found.addresses)}


def write_url(*, address: str = "", key: str = "") -> str:
    """The compose page, for one address (« À ») or one list (« Copie cachée »)."""
    from django.urls import reverse

    query = {"liste": key} if key else {"a": address}
    return f"{reverse('mail:write')}?{urlencode(query)}"


# --- The directory, searched by criteria ------------------------------------------------------


@dataclass(frozen=True)
class DirectoryResult:
    people: list[directory.Recipient]
    more: bool  # more people matched than shown


def search_directory(
    person: User,
    *,
    name: str = "",
    establishment: str = "",
    role: str = "",
    limit: int = DIRECTORY_PAGE_RESULTS,
) -> DirectoryResult:
    """People ``person`` may reach whose names start with the words of ``name``, holding
    ``role`` this year (any role if empty) in an establishment whose name contains or whose
    UAI is ``establishment``; by last name, ``limit`` at most. People without an address are
    left out."""
    matches = User.objects.reachable_by(person).exclude(email="")
    for word in directory.words_of(name) if name.strip() else []:
        matches = matches.filter(directory._matching(word))
    place = " ".join(establishment.split())[:80]
    if place or role:
        held = Assignment.objects.current()
        if role:
            held = held.filter(role=role)
        if place:
            held = held.filter(
                establishment__in=Establishment.objects.filter(
                    models.Q(uai__iexact=place) | models.Q(name__icontains=place)
                )
            )
        matches = matches.filter(pk__in=held.values("user"))
    return _described(person, matches, limit)


def _described(person: User, matches: models.QuerySet[User], limit: int) -> DirectoryResult:
    current = Assignment.objects.current().select_related("establishment")
    people = list(
        matches.order_by("last_name", "first_name", "pk")
        .only("first_name", "last_name", "email")
        .prefetch_related(models.Prefetch("assignments", current, to_attr="current_roles"))[
            : limit + 1
        ]
    )
    more = len(people) > limit
    near = set(
        Assignment.objects.current().filter(user=person).values_list("establishment_id", flat=True)
    )
    return DirectoryResult(
        people=[
            directory.Recipient(
                name=found.get_full_name(), address=found.email, label=directory._label(found, near)
            )
            for found in people[:limit]
        ],
        more=more,
    )


# --- Suggestions for the compose page ---------------------------------------------------------


def _name_or_address(words: list[str], name_field: str, address_field: str) -> models.Q:
    condition = models.Q()
    for word in words:
        letters = directory._letters(word)
        condition &= models.Q(**{f"{name_field}__regex": directory._NAME_START + letters}) | (
            models.Q(**{f"{address_field}__regex": "^" + letters})
        )
    return condition


def _list_matches(words: list[str], name: str) -> bool:
    """Whether every word starts a word of ``name`` (« 4e b », « parents 4 », « eleves »)."""
    parts = directory.normalize(name).replace("-", " ").replace("'", " ").split()
    return all(any(part.startswith(word) for part in parts) for word in words)


def suggestions(person: User, text: str) -> list[Suggestion]:
    """What the compose page offers for ``text``, in order: the person's groups and class
    lists (several addresses each), their contacts, the addresses they wrote to, then the
    académie's directory; each address once, ``MAX_SUGGESTIONS`` in all."""
    words = directory.words_of(text)
    if not words:
        return []
    found: list[Suggestion] = []
    for group in (
        ContactGroup.objects.filter(owner=person)
        .filter(_name_or_address(words, "name", "name"))
        .prefetch_related(models.Prefetch("members", Contact.objects.order_by("name", "address")))
        .order_by("name")[:MAX_LIST_SUGGESTIONS]
    ):
        addresses = tuple(member.address for member in group.members.all())
        if addresses:
            found.append(
                Suggestion(
                    group.name, "", _("Groupe de contacts"), addresses, f"{GROUP}:{group.pk}"
                )
            )
    for one in class_lists(person):
        if len(found) >= MAX_LIST_SUGGESTIONS:
            break
        if _list_matches(words, one.name):
            addresses = tuple(class_list_addresses(person, one))
            if addresses:
                found.append(Suggestion(one.name, "", one.establishment_name, addresses, one.key))
    seen: set[str] = set()

    def add(name: str, address: str, label: str) -> None:
        if address.lower() not in seen and len(found) < MAX_SUGGESTIONS:
            seen.add(address.lower())
            found.append(Suggestion(name, address, label))

    for contact in (
        Contact.objects.filter(owner=person)
        .filter(_name_or_address(words, "name", "address"))
        .order_by("name", "address")[:MAX_SUGGESTIONS]
    ):
        add(contact.name, contact.address, contact.organisation or _("Mes contacts"))
    for collected in collected_of(person).filter(_name_or_address(words, "name", "address"))[
        :MAX_SUGGESTIONS
    ]:
        add(collected.name, collected.address, _("Adresse récente"))
    room = MAX_SUGGESTIONS - len(found)
    if room > 0:
        for recipient in directory.search_recipients(person, text):
            add(recipient.name, recipient.address, recipient.label)
    return found
