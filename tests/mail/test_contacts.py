"""The address book: the directory page per profile (parents included), personal contacts
and groups with their limits, vCard import and export, addresses remembered after sending,
class lists for teachers written to in Bcc, and the compose page's suggestions in order."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from convergence.accounts.models import AccountState, Assignment, Role, User, current_school_year
from convergence.audit.models import AuditEvent
from convergence.core.models import Establishment
from convergence.mail import contacts, contacts_actions, contacts_views
from convergence.mail.models import CollectedAddress, Contact, ContactGroup
from tests.helpers import client_of, text_of
from tests.mail import test_compose

pytestmark = pytest.mark.django_db
# The demo's embedded IMAP and submission servers, as the compose tests start them.
servers = test_compose.servers

VICTOR_HUGO = "0250013D"
JEAN_MACE = "0700905D"
DIRECTORY = "/messagerie/contacts/"


@pytest.fixture
def lea_has_an_address(pupil: User) -> User:
    pupil.email = "lea.martin@ac-besancon.fr"
    pupil.save(update_fields=["email"])
    return pupil


def _contact(owner: User, address: str, name: str = "") -> Contact:
    return contacts_actions.save_contact(owner=owner, address=address, name=name)


def _vcf(*cards: str) -> bytes:
    return "".join(f"BEGIN:VCARD\r\nVERSION:3.0\r\n{card}END:VCARD\r\n" for card in cards).encode()


def _upload(data: bytes, name: str = "contacts.vcf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, "text/vcard")


# --- The directory page, per profile ---------------------------------------------------------


def test_the_urls_are_named(demo):
    assert reverse("mail_contacts:directory") == DIRECTORY
    assert reverse("mail_contacts:export") == "/messagerie/contacts/export.vcf"


def test_parent_finds_his_daughters_teacher_and_writes_from_his_own_address(parent, teacher):
    response = client_of(parent).get(DIRECTORY, {"nom": "bernard"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="mailto:sophie.bernard@ac-besancon.fr"' in page
    assert "/messagerie/ecrire/" not in page  # no académie mailbox
    assert "Mes contacts" not in text_of(response)


def test_parent_finds_the_vie_scolaire_by_establishment_and_role(parent, cpe, head_of_school):
    response = client_of(parent).get(DIRECTORY, {"etablissement": VICTOR_HUGO, "role": Role.CPE})
    assert "nadia.haddad@ac-besancon.fr" in response.content.decode()
    assert "philippe.girard" not in response.content.decode()


def test_parent_does_not_find_staff_who_are_neither_teachers_nor_vie_scolaire(
    parent, agent, administrative_agent
):
    for name in ("roux", "petit"):
        response = client_of(parent).get(DIRECTORY, {"nom": name})
        assert "Personne ne correspond" in text_of(response)


def test_parent_has_none_of_the_mailbox_pages(parent):
    browser = client_of(parent)
    for name in ("personal", "recent", "classes", "import", "export", "new"):
        assert browser.get(reverse(f"mail_contacts:{name}")).status_code == 403, name


def test_pupil_searches_her_school_by_uai_and_finds_only_staff(
    pupil, teacher, cpe, classmate_with_address
):
    response = client_of(pupil).get(DIRECTORY, {"etablissement": VICTOR_HUGO})
    page = response.content.decode()
    assert "sophie.bernard@ac-besancon.fr" in page and "nadia.haddad@ac-besancon.fr" in page
    assert "imartinez" not in page


def test_teacher_finds_parents_of_her_pupils_by_role(teacher, parent):
    response = client_of(teacher).get(DIRECTORY, {"role": Role.PARENT, "etablissement": "hugo"})
    page = response.content.decode()
    assert "karim.martin@exemple.fr" in page
    assert "/messagerie/ecrire/?a=karim.martin%40exemple.fr" in page


def test_a_search_needs_a_criterion(teacher):
    assert client_of(teacher).get(DIRECTORY).status_code == 200  # the empty form
    response = client_of(teacher).get(DIRECTORY, {"nom": " ", "role": ""})
    assert response.status_code == 400
    assert "Indiquez au moins un critère de recherche." in text_of(response)
    response = client_of(teacher).get(DIRECTORY, {"nom": "a"})
    assert response.status_code == 400
    assert "au moins deux caractères" in text_of(response)


def test_the_results_are_capped(teacher, demo, settings):
    for number in range(contacts.DIRECTORY_PAGE_RESULTS + 2):
        login = f"zabel{number}"
        user = User.objects.create_user(
            login,
            first_name="Zoé",
            last_name=f"Zabel{number:03d}",
            email=f"{login}@ac-besancon.fr",
            state=AccountState.ACTIVE,
        )
        Assignment.objects.create(
            user=user,
            establishment=Establishment.objects.get(uai=JEAN_MACE),
            role=Role.ENSEIGNANT,
            school_year=current_school_year(),
        )
    response = client_of(teacher).get(DIRECTORY, {"nom": "zabel"})
    assert response.context["result"].more
    assert len(response.context["result"].people) == contacts.DIRECTORY_PAGE_RESULTS
    assert "précisez votre recherche" in text_of(response)


def test_reading_the_directory_page_after_page_is_throttled(teacher, head_of_school):
    browser = client_of(teacher)
    for _ in range(contacts_views.SEARCHES_PER_MINUTE):
        assert browser.get(DIRECTORY, {"nom": "gi"}).status_code == 200
    refused = browser.get(DIRECTORY, {"nom": "gi"})
    assert refused.status_code == 429
    assert "Trop de recherches dans l'annuaire" in text_of(refused)
    assert "philippe.girard" not in refused.content.decode()


def test_someone_without_a_role_this_year_is_refused(teacher):
    Assignment.objects.filter(user=teacher).delete()
    assert client_of(teacher).get(DIRECTORY).status_code == 403


# --- Personal contacts ------------------------------------------------------------------------


def test_add_edit_and_delete_a_contact(teacher):
    browser = client_of(teacher)
    response = browser.post(
        reverse("mail_contacts:new"),
        {"nom": "Élodie Lefèvre", "adresse": "Elodie@Exemple.fr", "telephone": "06 12 34 56 78"},
    )
    assert response.status_code == 302
    contact = Contact.objects.get(owner=teacher)
    assert contact.address == "elodie@exemple.fr"
    response = browser.post(
        reverse("mail_contacts:edit", args=[contact.pk]),
        {"nom": "Élodie Lefèvre", "adresse": "elodie@exemple.fr", "organisme": "APE"},
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.organisation == "APE"
    assert "Élodie Lefèvre" in text_of(browser.get(reverse("mail_contacts:personal")))
    assert browser.post(reverse("mail_contacts:delete", args=[contact.pk])).status_code == 302
    assert not Contact.objects.filter(owner=teacher).exists()
    event = AuditEvent.objects.get(event_type="mail.contact_deleted")
    assert event.actor == teacher


def test_an_address_already_in_the_book_is_refused_in_french(teacher):
    _contact(teacher, "elodie@exemple.fr")
    response = client_of(teacher).post(
        reverse("mail_contacts:new"), {"adresse": "ELODIE@exemple.fr"}
    )
    assert response.status_code == 400
    assert "déjà dans vos contacts" in text_of(response)
    assert Contact.objects.filter(owner=teacher).count() == 1


def test_a_bad_address_is_refused_in_french(teacher):
    response = client_of(teacher).post(reverse("mail_contacts:new"), {"adresse": "pas-une"})
    assert response.status_code == 400
    assert "adresse électronique valide" in text_of(response)


def test_the_number_of_contacts_is_limited(teacher, settings):
    settings.MAIL_CONTACTS_MAX = 2
    _contact(teacher, "a@exemple.fr")
    _contact(teacher, "b@exemple.fr")
    response = client_of(teacher).post(reverse("mail_contacts:new"), {"adresse": "c@exemple.fr"})
    assert response.status_code == 400
    assert "déjà 2 contacts, le maximum" in text_of(response)
    assert Contact.objects.filter(owner=teacher).count() == 2


def test_the_limit_holds_against_parallel_requests(
    concurrent_db, teacher_in_concurrent_db, settings, run_together
):
    settings.MAIL_CONTACTS_MAX = 3

    def add(number: int) -> bool:
        try:
            _contact(teacher_in_concurrent_db, f"p{number}@exemple.fr")
        except contacts_actions.ContactError:
            return False
        return True

    outcomes = run_together(6, add)
    assert outcomes.count(True) == 3
    assert Contact.objects.filter(owner=teacher_in_concurrent_db).count() == 3


def test_someone_elses_contact_is_a_404(teacher, head_of_school):
    theirs = _contact(head_of_school, "secret@exemple.fr")
    browser = client_of(teacher)
    assert browser.get(reverse("mail_contacts:edit", args=[theirs.pk])).status_code == 404
    assert browser.post(reverse("mail_contacts:delete", args=[theirs.pk])).status_code == 404
    assert Contact.objects.filter(pk=theirs.pk).exists()


def test_a_post_without_csrf_token_is_refused(teacher):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(teacher)
    response = browser.post(reverse("mail_contacts:new"), {"adresse": "x@exemple.fr"})
    assert response.status_code == 403
    assert not Contact.objects.filter(owner=teacher).exists()


def test_a_pupil_keeps_an_address_book_too(pupil):
    response = client_of(pupil).post(reverse("mail_contacts:new"), {"adresse": "mamie@exemple.fr"})
    assert response.status_code == 302


# --- Groups -----------------------------------------------------------------------------------


def test_create_rename_fill_and_delete_a_group(teacher, head_of_school):
    elodie = _contact(teacher, "elodie@exemple.fr", "Élodie")
    marc = _contact(teacher, "marc@exemple.fr", "Marc")
    theirs = _contact(head_of_school, "theirs@exemple.fr")
    browser = client_of(teacher)
    response = browser.post(reverse("mail_contacts:group_create"), {"nom": "Parents délégués"})
    group = ContactGroup.objects.get(owner=teacher)
    assert response["Location"] == reverse("mail_contacts:group", args=[group.pk])
    url = reverse("mail_contacts:group", args=[group.pk])
    browser.post(url, {"action": "renommer", "nom": "Délégués 4e B"})
    group.refresh_from_db()
    assert group.name == "Délégués 4e B"
    browser.post(url, {"action": "membres", "membres": [elodie.pk, marc.pk]})
    assert set(group.members.all()) == {elodie, marc}
    # Someone else's contact cannot be slipped in.
    response = browser.post(url, {"action": "membres", "membres": [elodie.pk, theirs.pk]})
    assert response.status_code == 400
    assert set(group.members.all()) == {elodie, marc}
    browser.post(url, {"action": "membres", "membres": [marc.pk]})
    assert list(group.members.all()) == [marc]
    browser.post(reverse("mail_contacts:group_delete", args=[group.pk]))
    assert not ContactGroup.objects.filter(pk=group.pk).exists()
    assert Contact.objects.filter(owner=teacher).count() == 2  # the contacts stay
    assert AuditEvent.objects.filter(event_type="mail.contact_group_deleted").exists()


def test_group_names_are_unique_and_groups_limited(teacher, settings):
    contacts_actions.create_group(owner=teacher, name="Collègues")
    with pytest.raises(contacts_actions.ContactError, match="déjà un groupe de ce nom"):
        contacts_actions.create_group(owner=teacher, name="collègues")
    settings.MAIL_CONTACT_GROUPS_MAX = 1
    browser = client_of(teacher)
    response = browser.post(reverse("mail_contacts:group_create"), {"nom": "Autre"})
    assert "déjà 1 groupes, le maximum" in text_of(browser.get(response["Location"]))
    assert ContactGroup.objects.filter(owner=teacher).count() == 1


def test_someone_elses_group_is_a_404(teacher, head_of_school):
    theirs = contacts_actions.create_group(owner=head_of_school, name="Direction")
    browser = client_of(teacher)
    assert browser.get(reverse("mail_contacts:group", args=[theirs.pk])).status_code == 404
    assert browser.post(reverse("mail_contacts:group_delete", args=[theirs.pk])).status_code == 404
    assert browser.get(reverse("mail_contacts:export") + f"?groupe={theirs.pk}").status_code == 404


# --- vCard export and import ------------------------------------------------------------------


def test_export_all_contacts_then_import_them_elsewhere(teacher, head_of_school):
    contacts_actions.save_contact(
        owner=teacher,
        address="elodie@exemple.fr",
        name="Élodie Lefèvre, présidente; APE",
        note="À rappeler",
    )
    _contact(teacher, "marc@exemple.fr", "Marc")
    response = client_of(teacher).get(reverse("mail_contacts:export"))
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    assert 'filename="contacts.vcf"' in response["Content-Disposition"]
    data = response.content
    assert data.count(b"BEGIN:VCARD") == 2
    assert "FN:Élodie Lefèvre\\, présidente\\; APE".encode() in data
    report = contacts_actions.import_vcards(owner=head_of_school, data=data)
    assert (report.created, report.updated, report.problems) == (2, 0, [])
    imported = Contact.objects.get(owner=head_of_school, address="elodie@exemple.fr")
    assert imported.name == "Élodie Lefèvre, présidente; APE"
    assert imported.note == "À rappeler"


def test_export_one_group(teacher):
    elodie = _contact(teacher, "elodie@exemple.fr", "Élodie")
    _contact(teacher, "marc@exemple.fr", "Marc")
    group = contacts_actions.create_group(owner=teacher, name="APE")
    contacts_actions.add_to_group(owner=teacher, group=group, contact=elodie)
    response = client_of(teacher).get(reverse("mail_contacts:export") + f"?groupe={group.pk}")
    assert response.content.count(b"BEGIN:VCARD") == 1
    assert b"elodie@exemple.fr" in response.content


def test_import_updates_existing_addresses_and_reports_bad_cards_by_line(teacher):
    _contact(teacher, "elodie@exemple.fr", "Élodie")
    data = _vcf(
        "FN:Élodie Lefèvre\r\nEMAIL:Elodie@exemple.fr\r\nTEL:0612345678\r\n",  # line 1
        "FN:Sans adresse\r\n",  # line 7
        "FN:Marc Dupont\r\nEMAIL:marc@exemple.fr\r\n",  # line 11
        "FN:Encore Marc\r\nEMAIL:marc@exemple.fr\r\n",  # line 16
    )
    response = client_of(teacher).post(reverse("mail_contacts:import"), {"fichier": _upload(data)})
    assert response.status_code == 200
    page = text_of(response)
    assert "Contacts ajoutés : 1. Contacts mis à jour : 1." in page
    assert "Fiche de la ligne 7 : la fiche n'a pas d'adresse électronique (EMAIL)." in page
    assert (
        "Fiche de la ligne 16 : l'adresse marc@exemple.fr figure déjà dans la fiche de la ligne 11."
        in page
    )
    assert Contact.objects.filter(owner=teacher).count() == 2
    elodie = Contact.objects.get(owner=teacher, address="elodie@exemple.fr")
    assert (elodie.name, elodie.phone) == ("Élodie Lefèvre", "0612345678")
    event = AuditEvent.objects.get(event_type="mail.contacts_imported")
    assert event.data == {"created": 1, "updated": 1, "left_out": 2, "group": None}


def test_import_into_a_group(teacher):
    group = contacts_actions.create_group(owner=teacher, name="APE")
    data = _vcf("FN:A\r\nEMAIL:a@exemple.fr\r\n", "FN:B\r\nEMAIL:b@exemple.fr\r\n")
    client_of(teacher).post(
        reverse("mail_contacts:import"), {"fichier": _upload(data), "groupe": group.pk}
    )
    assert group.members.count() == 2


def test_an_import_past_the_contacts_limit_imports_nothing(teacher, settings):
    settings.MAIL_CONTACTS_MAX = 2
    _contact(teacher, "a@exemple.fr")
    data = _vcf("EMAIL:b@exemple.fr\r\n", "EMAIL:c@exemple.fr\r\n", "EMAIL:a@exemple.fr\r\n")
    response = client_of(teacher).post(reverse("mail_contacts:import"), {"fichier": _upload(data)})
    assert response.status_code == 400
    assert "Rien n'a été importé" in text_of(response)
    assert Contact.objects.filter(owner=teacher).count() == 1


def test_too_many_cards_or_too_big_a_file_imports_nothing(teacher, settings):
    settings.MAIL_VCARD_IMPORT_MAX_CARDS = 2
    data = _vcf(*(f"EMAIL:p{n}@exemple.fr\r\n" for n in range(3)))
    response = client_of(teacher).post(reverse("mail_contacts:import"), {"fichier": _upload(data)})
    assert response.status_code == 400
    assert "plus de 2 fiches" in text_of(response)
    settings.MAIL_VCARD_IMPORT_MAX_KB = 1
    big = _vcf(f"EMAIL:a@exemple.fr\r\nNOTE:{'x' * 2000}\r\n")
    response = client_of(teacher).post(reverse("mail_contacts:import"), {"fichier": _upload(big)})
    assert response.status_code == 400
    assert "dépasse 1 Ko" in text_of(response)
    assert not Contact.objects.filter(owner=teacher).exists()


def test_a_file_that_is_not_a_vcard_is_refused(teacher):
    response = client_of(teacher).post(
        reverse("mail_contacts:import"), {"fichier": _upload(b"\x89PNG\x00\x00", "photo.vcf")}
    )
    assert response.status_code == 400
    assert "pas un fichier texte vCard" in text_of(response)


# --- Addresses remembered after sending -------------------------------------------------------


def test_recipients_are_remembered_except_own_address_and_contacts(teacher, head_of_school):
    _contact(teacher, "elodie@exemple.fr")
    kept = contacts_actions.collect_addresses(
        owner=teacher,
        addresses=["Philippe.Girard@ac-besancon.fr", "elodie@exemple.fr", teacher.email],
    )
    assert kept == 1
    [row] = CollectedAddress.objects.filter(owner=teacher)
    assert (row.address, row.name, row.times_used) == (
        "philippe.girard@ac-besancon.fr",
        "Philippe Girard",
        1,
    )
    contacts_actions.collect_addresses(owner=teacher, addresses=["philippe.girard@ac-besancon.fr"])
    row.refresh_from_db()
    assert row.times_used == 2


def test_only_the_newest_addresses_are_kept(teacher, settings):
    settings.MAIL_COLLECTED_ADDRESSES_MAX = 3
    start = timezone.now() - datetime.timedelta(hours=1)
    for number in range(3):
        CollectedAddress.objects.create(
            owner=teacher,
            address=f"old{number}@exemple.fr",
            last_used_at=start + datetime.timedelta(minutes=number),
        )
    contacts_actions.collect_addresses(owner=teacher, addresses=["new@exemple.fr"])
    assert [row.address for row in contacts.collected_of(teacher)] == [
        "new@exemple.fr",
        "old2@exemple.fr",
        "old1@exemple.fr",
    ]


def test_remembered_addresses_are_listed_and_removable(teacher, head_of_school):
    contacts_actions.collect_addresses(owner=teacher, addresses=["a@exemple.fr", "b@exemple.fr"])
    browser = client_of(teacher)
    assert "a@exemple.fr" in text_of(browser.get(reverse("mail_contacts:recent")))
    row = CollectedAddress.objects.get(owner=teacher, address="a@exemple.fr")
    theirs = CollectedAddress.objects.create(owner=head_of_school, address="z@exemple.fr")
    assert browser.post(reverse("mail_contacts:recent"), {"adresse": theirs.pk}).status_code == 404
    browser.post(reverse("mail_contacts:recent"), {"adresse": row.pk})
    assert list(
        CollectedAddress.objects.filter(owner=teacher).values_list("address", flat=True)
    ) == ["b@exemple.fr"]
    browser.post(reverse("mail_contacts:recent"), {"action": "tout"})
    assert not CollectedAddress.objects.filter(owner=teacher).exists()
    assert CollectedAddress.objects.filter(owner=head_of_school).exists()


def test_adding_a_contact_forgets_it_as_a_recent_address(teacher):
    contacts_actions.collect_addresses(owner=teacher, addresses=["a@exemple.fr"])
    _contact(teacher, "a@exemple.fr")
    assert not CollectedAddress.objects.filter(owner=teacher).exists()


# --- Class lists ------------------------------------------------------------------------------


def _keys(person: User) -> list[str]:
    return [one.key for one in contacts.class_lists(person)]


def test_a_teacher_has_pupils_and_parents_lists_for_the_classes_of_her_schools(teacher):
    victor_hugo = Establishment.objects.get(uai=VICTOR_HUGO).pk
    lists = contacts.class_lists(teacher)
    assert [one.name for one in lists] == [
        "Élèves de la 4e B",
        "Parents de la 4e B",
        "Élèves de la 6e A",
        "Parents de la 6e A",
    ]
    assert lists[0].key == f"eleves:{victor_hugo}:4e B"


def test_a_division_on_the_teachers_assignment_narrows_her_lists(teacher):
    Assignment.objects.filter(user=teacher, establishment__uai=VICTOR_HUGO).update(division="4e B")
    assert [one.name for one in contacts.class_lists(teacher)] == [
        "Élèves de la 4e B",
        "Parents de la 4e B",
    ]


def test_pupils_parents_and_agents_have_no_class_lists(pupil, parent, agent):
    assert _keys(pupil) == _keys(parent) == _keys(agent) == []
    assert client_of(pupil).get(reverse("mail_contacts:classes")).status_code == 200


def test_the_parents_list_holds_the_parents_own_addresses(teacher, parent, lea_has_an_address):
    [pupils, parents] = contacts.class_lists(teacher)[:2]
    assert contacts.class_list_addresses(teacher, pupils) == ["lea.martin@ac-besancon.fr"]
    assert contacts.class_list_addresses(teacher, parents) == ["karim.martin@exemple.fr"]
    page = text_of(client_of(teacher).get(reverse("mail_contacts:classes")))
    assert "Parents de la 4e B" in page


def test_writing_to_a_class_list_puts_it_in_bcc_with_its_name(teacher, parent):
    parents = contacts.class_lists(teacher)[1]
    response = client_of(teacher).get(contacts.write_url(key=parents.key))
    initial = response.context["form"].initial
    assert initial["cci"] == "karim.martin@exemple.fr"
    assert not initial["a"]
    assert "Liste « Parents de la 4e B » : 1 adresses en copie cachée." in text_of(response)


def test_a_list_of_another_school_or_person_prefills_nothing(teacher, head_of_school, demo):
    jean_mace = Establishment.objects.get(uai=JEAN_MACE).pk
    theirs = contacts_actions.create_group(owner=head_of_school, name="Direction")
    contacts_actions.add_to_group(
        owner=head_of_school, group=theirs, contact=_contact(head_of_school, "x@exemple.fr")
    )
    browser = client_of(teacher)
    for key in (f"parents:{jean_mace}:5e C", f"groupe:{theirs.pk}", "groupe:abc", "n'importe"):
        response = browser.get(contacts.write_url(key=key))
        assert not response.context["form"].initial.get("cci"), key
        assert "n'existe pas ou plus" in text_of(response)


def test_writing_to_a_group_puts_its_members_in_bcc(teacher):
    group = contacts_actions.create_group(owner=teacher, name="APE")
    for address in ("a@exemple.fr", "b@exemple.fr"):
        contacts_actions.add_to_group(
            owner=teacher, group=group, contact=_contact(teacher, address)
        )
    response = client_of(teacher).get(contacts.write_url(key=f"groupe:{group.pk}"))
    assert response.context["form"].initial["cci"] == "a@exemple.fr, b@exemple.fr"
    assert "Liste « APE » : 2 adresses en copie cachée." in text_of(response)


# --- Suggestions in compose -------------------------------------------------------------------


def test_suggestions_come_lists_first_then_contacts_recent_and_directory(
    teacher, parent, head_of_school, lea_has_an_address
):
    """Typing « ma »: the group « Maths », the class lists? no — « parents » finds them;
    here the group, then the contact, then the recent address, then the directory."""
    group = contacts_actions.create_group(owner=teacher, name="Maths 4e")
    contacts_actions.add_to_group(
        owner=teacher, group=group, contact=_contact(teacher, "marc@exemple.fr", "Marc Aubry")
    )
    contacts_actions.collect_addresses(owner=teacher, addresses=["mairie@exemple.fr"])
    found = contacts.suggestions(teacher, "ma")
    assert [(one.name, one.address) for one in found] == [
        ("Maths 4e", ""),
        ("Marc Aubry", "marc@exemple.fr"),
        ("", "mairie@exemple.fr"),
        ("Karim Martin", "karim.martin@exemple.fr"),
        ("Léa Martin", "lea.martin@ac-besancon.fr"),
    ]
    assert found[0].addresses == ("marc@exemple.fr",)


def test_class_lists_are_suggested_by_their_name(teacher, parent):
    [one] = contacts.suggestions(teacher, "parents 4e")
    assert one.name == "Parents de la 4e B"
    assert one.addresses == ("karim.martin@exemple.fr",)


def test_the_fragment_marks_a_list_for_bcc(teacher, parent):
    response = client_of(teacher).get("/messagerie/destinataires/", {"q": "parents 4"})
    page = response.content.decode()
    assert 'data-addresses="karim.martin@exemple.fr"' in page
    assert "ajoutées en copie cachée" in page


def test_a_pupil_is_never_offered_a_class_list(pupil, classmate_with_address):
    assert contacts.suggestions(pupil, "eleves") == []


@pytest.fixture
def classmate_with_address(demo: None) -> User:
    user = User.objects.create_user(
        "imartinez",
        first_name="Inès",
        last_name="Martinez",
        email="imartinez@ac-besancon.fr",
        state=AccountState.ACTIVE,
    )
    Assignment.objects.create(
        user=user,
        establishment=Establishment.objects.get(uai=VICTOR_HUGO),
        role=Role.ELEVE,
        division="4e B",
        school_year=current_school_year(),
    )
    return user


@pytest.fixture
def teacher_in_concurrent_db(concurrent_db: None) -> Any:
    from convergence.core.blueprints import apply
    from tests.conftest import _person, demo_blueprint

    apply(demo_blueprint())
    return _person("sophie")


# --- Sent for real through the demo's mail servers --------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_group_written_to_gets_the_message_in_bcc_and_recipients_are_remembered(
    teacher, head_of_school, cpe, servers
):
    group = contacts_actions.create_group(owner=teacher, name="Direction")
    contacts_actions.add_to_group(
        owner=teacher, group=group, contact=_contact(teacher, head_of_school.email, "Philippe")
    )
    browser = client_of(teacher)
    initial = browser.get(contacts.write_url(key=f"groupe:{group.pk}")).context["form"].initial
    response = browser.post(
        reverse("mail:write"),
        {
            "a": cpe.email,
            "cci": initial["cci"],
            "objet": "Réunion de l'équipe de direction",
            "texte": "Bonjour",
            "action": "envoyer",
        },
    )
    assert response.status_code == 302, text_of(response)
    received = [
        message
        for message in test_compose._messages(test_compose._imap(servers, head_of_school), "INBOX")
        if message["Subject"] == "Réunion de l'équipe de direction"
    ]
    assert len(received) == 1
    assert received[0]["Bcc"] is None
    assert received[0]["To"] == cpe.email
    # The CPE is remembered; the head of school is a contact already.
    assert list(
        CollectedAddress.objects.filter(owner=teacher).values_list("address", flat=True)
    ) == [cpe.email]
