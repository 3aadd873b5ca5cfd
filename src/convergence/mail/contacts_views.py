"""The address book's pages, under /messagerie/contacts/ (thin: validate, call one action or
read, render).

The académie's directory is open to whoever holds a role this school year — parents too,
who have no académie mailbox but must find their children's teachers and write to them from
their own address (« Écrire » is then a ``mailto:`` link). Everything else — personal
contacts and groups, vCard files, remembered addresses, class lists — belongs to the webmail
and stays behind ``mailbox_required``.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from convergence.accounts.models import Role, User
from convergence.accounts.permissions import has_academic_mailbox, mailbox_required, role_required
from convergence.core import ratelimit
from convergence.mail import contacts, contacts_actions, contacts_forms, vcard
from convergence.mail.models import CollectedAddress, Contact, ContactGroup

# The directory page reads the same people as the compose page's suggestions: the same
# budget of lookups keeps it from being read whole, page after page.
SEARCHES_PER_MINUTE = 30
SEARCH_WINDOW_SECONDS = 60
UNAVAILABLE_RETRY_SECONDS = 30
CONTACTS_PER_PAGE = 100

# The directory: anyone holding a role this school year (a mailbox, or a parent).
directory_required = role_required(*Role.values, refusal="contacts_page")


def _person(request: HttpRequest) -> User:
    return cast(User, request.user)


def _page(
    request: HttpRequest, template: str, tab: str, status: int = 200, **context: Any
) -> HttpResponse:
    person = _person(request)
    context.update(tab=tab, has_mailbox=has_academic_mailbox(person))
    if context["has_mailbox"]:
        context.setdefault("has_class_lists", bool(contacts.class_lists(person)))
    return render(request, f"mail/contacts/{template}", context, status=status)


# --- The académie's directory -----------------------------------------------------------------


@never_cache
@directory_required
@require_GET
def directory(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    asked = any(request.GET.get(key) for key in ("nom", "etablissement", "role"))
    form = contacts_forms.DirectorySearchForm(request.GET if asked else None)
    result = None
    status = 200
    if asked and form.is_valid():
        try:
            wait = ratelimit.hit(
                ratelimit.key("mail-directory", person.pk),
                limit=SEARCHES_PER_MINUTE,
                window=SEARCH_WINDOW_SECONDS,
            )
        except ratelimit.LimiterUnavailable:
            response = _page(
                request,
                "directory.html",
                "annuaire",
                status=503,
                form=form,
                error=_("La recherche dans l'annuaire est momentanément indisponible."),
            )
            response["Retry-After"] = str(UNAVAILABLE_RETRY_SECONDS)
            return response
        if wait:
            response = _page(
                request,
                "directory.html",
                "annuaire",
                status=429,
                form=form,
                error=_(
                    "Trop de recherches dans l'annuaire en peu de temps : réessayez dans "
                    "%(seconds)d secondes."
                )
                % {"seconds": wait},
            )
            response["Retry-After"] = str(wait)
            return response
        data = form.cleaned_data
        result = contacts.search_directory(
            person, name=data["nom"], establishment=data["etablissement"], role=data["role"]
        )
    elif asked:
        status = 400
    return _page(request, "directory.html", "annuaire", status=status, form=form, result=result)


# --- Personal contacts ------------------------------------------------------------------------


@never_cache
@mailbox_required
@require_GET
def personal(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    page = Paginator(contacts.contacts_of(person), CONTACTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return _page(
        request,
        "personal.html",
        "contacts",
        page=page,
        groups=list(contacts.groups_of(person)),
        group_form=contacts_forms.GroupForm(),
        max_contacts=settings.MAIL_CONTACTS_MAX,
    )


def _own_contact(request: HttpRequest, pk: int) -> Contact:
    return get_object_or_404(Contact, owner=_person(request), pk=pk)


def _own_group(request: HttpRequest, pk: int) -> ContactGroup:
    return get_object_or_404(ContactGroup, owner=_person(request), pk=pk)


@never_cache
@mailbox_required
@require_http_methods(["GET", "POST"])
def contact_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add a contact, or change one (``pk``)."""
    person = _person(request)
    contact = _own_contact(request, pk) if pk is not None else None
    if request.method == "POST":
        form = contacts_forms.ContactForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                contacts_actions.save_contact(
                    owner=person,
                    contact=contact,
                    address=data["adresse"],
                    name=data["nom"],
                    phone=data["telephone"],
                    organisation=data["organisme"],
                    note=data["note"],
                )
            except contacts_actions.ContactError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, _("Contact enregistré.") if contact else _("Contact ajouté.")
                )
                return HttpResponseRedirect(reverse("mail_contacts:personal"))
        status = 400
    else:
        status = 200
        if contact is not None:
            initial = {
                "nom": contact.name,
                "adresse": contact.address,
                "telephone": contact.phone,
                "organisme": contact.organisation,
                "note": contact.note,
            }
        else:
            initial = {
                "nom": request.GET.get("nom", "")[:120],
                "adresse": request.GET.get("adresse", "")[:254],
            }
        form = contacts_forms.ContactForm(initial=initial)
    return _page(
        request, "contact_form.html", "contacts", status=status, form=form, contact=contact
    )


@mailbox_required
@require_POST
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _own_contact(request, pk)
    contacts_actions.delete_contact(owner=_person(request), contact=contact, request=request)
    messages.success(request, _("Contact supprimé : %(name)s.") % {"name": str(contact)})
    return HttpResponseRedirect(reverse("mail_contacts:personal"))


# --- Groups -----------------------------------------------------------------------------------


@mailbox_required
@require_POST
def group_create(request: HttpRequest) -> HttpResponse:
    form = contacts_forms.GroupForm(request.POST)
    if form.is_valid():
        try:
            group = contacts_actions.create_group(
                owner=_person(request), name=form.cleaned_data["nom"]
            )
        except contacts_actions.ContactError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Groupe créé : ajoutez-y des contacts."))
            return HttpResponseRedirect(reverse("mail_contacts:group", args=[group.pk]))
    else:
        messages.error(request, _("Donnez un nom au groupe (80 caractères au plus)."))
    return HttpResponseRedirect(reverse("mail_contacts:personal") + "#groupes")


@never_cache
@mailbox_required
@require_http_methods(["GET", "POST"])
def group(request: HttpRequest, pk: int) -> HttpResponse:
    """One group: rename it, choose its members."""
    person = _person(request)
    found = _own_group(request, pk)
    choices = [(contact.pk, str(contact)) for contact in contacts.contacts_of(person)]
    name_form = contacts_forms.GroupForm(initial={"nom": found.name})
    members_form = contacts_forms.GroupMembersForm(
        choices=choices, initial={"membres": list(found.members.values_list("pk", flat=True))}
    )
    status = 200
    if request.method == "POST":
        status = 400
        if request.POST.get("action") == "renommer":
            name_form = contacts_forms.GroupForm(request.POST)
            if name_form.is_valid():
                try:
                    contacts_actions.rename_group(
                        owner=person, group=found, name=name_form.cleaned_data["nom"]
                    )
                except contacts_actions.ContactError as error:
                    name_form.add_error("nom", str(error))
                else:
                    messages.success(request, _("Groupe renommé."))
                    return HttpResponseRedirect(reverse("mail_contacts:group", args=[pk]))
        else:
            members_form = contacts_forms.GroupMembersForm(request.POST, choices=choices)
            if members_form.is_valid():
                contacts_actions.set_group_members(
                    owner=person, group=found, contact_ids=members_form.cleaned_data["membres"]
                )
                messages.success(request, _("Membres du groupe enregistrés."))
                return HttpResponseRedirect(reverse("mail_contacts:group", args=[pk]))
    return _page(
        request,
        "group.html",
        "contacts",
        status=status,
        group=found,
        name_form=name_form,
        members_form=members_form,
        member_ids={
            int(one) for one in members_form["membres"].value() or [] if str(one).isdigit()
        },
        choices=choices,
        write_url=contacts.write_url(key=f"{contacts.GROUP}:{found.pk}"),
    )


@mailbox_required
@require_POST
def group_delete(request: HttpRequest, pk: int) -> HttpResponse:
    found = _own_group(request, pk)
    contacts_actions.delete_group(owner=_person(request), group=found, request=request)
    messages.success(
        request,
        _("Groupe « %(name)s » supprimé ; ses contacts restent dans votre carnet.")
        % {"name": found.name},
    )
    return HttpResponseRedirect(reverse("mail_contacts:personal") + "#groupes")


# --- Addresses written to ---------------------------------------------------------------------


@never_cache
@mailbox_required
@require_http_methods(["GET", "POST"])
def recent(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    if request.method == "POST":
        if request.POST.get("action") == "tout":
            contacts_actions.forget_all_collected_addresses(owner=person)
            messages.success(request, _("Adresses récentes effacées."))
        else:
            value = request.POST.get("adresse", "")
            if not value.isdigit() or not contacts_actions.forget_collected_address(
                owner=person, pk=int(value)
            ):
                raise Http404
            messages.success(request, _("Adresse retirée des adresses récentes."))
        return HttpResponseRedirect(reverse("mail_contacts:recent"))
    addresses: list[CollectedAddress] = list(contacts.collected_of(person))
    return _page(
        request,
        "recent.html",
        "recentes",
        addresses=addresses,
        max_collected=settings.MAIL_COLLECTED_ADDRESSES_MAX,
    )


# --- Class lists ------------------------------------------------------------------------------


@never_cache
@mailbox_required
@require_GET
def classes(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    lists = contacts.class_lists(person)
    sizes = contacts.class_list_sizes(person, lists)
    rows = [
        {
            "list": one,
            "size": sizes[one.key],
            "write_url": contacts.write_url(key=one.key),
        }
        for one in lists
    ]
    return _page(request, "classes.html", "classes", rows=rows, has_class_lists=bool(lists))


# --- vCard files ------------------------------------------------------------------------------


@never_cache
@mailbox_required
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """Every contact, or one group's (``?groupe=``), as a vCard 3.0 file."""
    person = _person(request)
    chosen = request.GET.get("groupe", "")
    if chosen:
        if not chosen.isdigit():
            raise Http404
        found = _own_group(request, int(chosen))
        rows = found.members.order_by("name", "address")
        filename = "contacts-groupe.vcf"
    else:
        rows = contacts.contacts_of(person)
        filename = "contacts.vcf"
    cards = [
        vcard.Card(
            address=row.address,
            name=row.name,
            phone=row.phone,
            organisation=row.organisation,
            note=row.note,
        )
        for row in rows
    ]
    response = HttpResponse(
        vcard.serialize(cards).encode(), content_type="text/vcard; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@mailbox_required
@require_http_methods(["GET", "POST"])
def import_contacts(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    groups = [(one.pk, one.name) for one in contacts.groups_of(person)]
    report = None
    status = 200
    if request.method == "POST":
        form = contacts_forms.ImportForm(request.POST, request.FILES, groups=groups)
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["fichier"]
            chosen = form.cleaned_data["groupe"]
            target = _own_group(request, chosen) if chosen else None
            limit = settings.MAIL_VCARD_IMPORT_MAX_KB * 1024
            try:
                if upload.size > limit:
                    raise contacts_actions.ContactError(
                        _("Le fichier dépasse %(size)d Ko : découpez-le.")
                        % {"size": settings.MAIL_VCARD_IMPORT_MAX_KB}
                    )
                report = contacts_actions.import_vcards(
                    owner=person, data=upload.read(limit + 1), group=target, request=request
                )
            except contacts_actions.ContactError as error:
                form.add_error("fichier", str(error))
            else:
                status = 200
                form = contacts_forms.ImportForm(groups=groups)
    else:
        form = contacts_forms.ImportForm(groups=groups)
    return _page(
        request,
        "import.html",
        "contacts",
        status=status,
        form=form,
        report=report,
        max_cards=settings.MAIL_VCARD_IMPORT_MAX_CARDS,
        max_kb=settings.MAIL_VCARD_IMPORT_MAX_KB,
    )
