"""Recipients from the académie's directory: who finds whom (a pupil only the staff of her
own school; staff the académie's staff, their own pupils and those pupils' parents; a parent
his children's teachers and vie scolaire), matching by the start of names without case or
accents, and a throttle that stops reading the whole directory through the suggestions."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from convergence.accounts.models import (
    AccountState,
    Assignment,
    Guardianship,
    Role,
    User,
    current_school_year,
)
from convergence.core.models import Establishment
from convergence.mail import directory, directory_views
from convergence.mail.directory import search_recipients
from tests.helpers import client_of, text_of

pytestmark = pytest.mark.django_db

URL = "/messagerie/destinataires/"
VICTOR_HUGO = "0250013D"
CHARLES_NODIER = "0390012B"
JEAN_MACE = "0700905D"


def _previous_year() -> str:
    start = int(current_school_year()[:4]) - 1
    return f"{start}-{start + 1}"


def _person(
    first_name: str,
    last_name: str,
    *,
    role: str,
    uai: str,
    login: str | None = None,
    email: str | None = None,
    state: str = AccountState.ACTIVE,
    school_year: str | None = None,
    division: str = "",
) -> User:
    login = login or f"{first_name[0]}{last_name}".lower().replace(" ", "").replace("'", "")
    user = User.objects.create_user(
        login,
        first_name=first_name,
        last_name=last_name,
        email=f"{login}@ac-besancon.fr" if email is None else email,
        state=state,
    )
    Assignment.objects.create(
        user=user,
        establishment=Establishment.objects.get(uai=uai),
        role=role,
        division=division,
        school_year=school_year or current_school_year(),
    )
    return user


def _guardian_of(pupil: User, first_name: str, last_name: str) -> User:
    """A parent (their own address, outside the académie) of ``pupil``, as imports make them."""
    login = f"{first_name[0]}{last_name}".lower() + ".parent"
    guardian = User.objects.create_user(
        login,
        first_name=first_name,
        last_name=last_name,
        email=f"{login}@exemple.fr",
        state=AccountState.ACTIVE,
    )
    Guardianship.objects.create(parent=guardian, pupil=pupil)
    for held in Assignment.objects.current().filter(user=pupil):
        Assignment.objects.get_or_create(
            user=guardian,
            establishment=held.establishment,
            role=Role.PARENT,
            school_year=held.school_year,
        )
    return guardian


def _addresses(person: Any, text: str, **kwargs: Any) -> list[str]:
    return [found.address for found in search_recipients(person, text, **kwargs)]


@pytest.fixture
def pupils_with_addresses(pupil: User, pupil_in_dole: User, invited_pupil: User) -> None:
    """The demo's pupils have no académie address; here they have one, as in production."""
    for someone, address in [
        (pupil, "lea.martin@ac-besancon.fr"),
        (pupil_in_dole, "yanis.martin@ac-besancon.fr"),
        (invited_pupil, "hugo.lambert@ac-besancon.fr"),
    ]:
        someone.email = address
        someone.save(update_fields=["email"])


@pytest.fixture
def classmate(pupils_with_addresses: None) -> User:
    return _person("Inès", "Martinez", role=Role.ELEVE, uai=VICTOR_HUGO, division="4e B")


@pytest.fixture
def heloise(demo: None) -> User:
    """Héloïse Lefèvre-Dubœuf, teacher at a collège in Lure (Haute-Saône)."""
    return _person(
        "Héloïse", "Lefèvre-Dubœuf", login="hlefevre", role=Role.ENSEIGNANT, uai=JEAN_MACE
    )


# Who reaches whom (User.objects.reachable_by, the one rule).


def test_pupil_reaches_exactly_the_staff_of_her_own_school(
    pupil, teacher, head_of_school, cpe, agent, referent, classmate
):
    reached = set(User.objects.reachable_by(pupil))
    assert reached == {teacher, head_of_school, cpe, agent, referent}


def test_pupil_does_not_reach_staff_of_other_establishments(
    pupil, administrative_agent, dsi, heloise, pupils_with_addresses
):
    assert _addresses(pupil, "petit") == []
    assert _addresses(pupil, "fontaine") == []
    assert _addresses(pupil, "helo") == []


def test_pupil_never_finds_other_pupils(pupil, pupil_in_dole, classmate):
    assert _addresses(pupil, "martin") == []
    assert _addresses(pupil, "ines") == []


def test_pupil_never_finds_parents(pupil, parent, pupils_with_addresses):
    assert parent not in User.objects.reachable_by(pupil)
    assert _addresses(pupil, "karim") == []


def test_teacher_finds_colleagues_across_the_academie(teacher, administrative_agent, dsi, heloise):
    assert _addresses(teacher, "petit") == ["claire.petit@ac-besancon.fr"]
    assert _addresses(teacher, "isab") == ["isabelle.fontaine@ac-besancon.fr"]
    assert _addresses(teacher, "helo") == ["hlefevre@ac-besancon.fr"]


def test_teacher_finds_her_own_pupils(teacher, pupil, classmate):
    assert _addresses(teacher, "lea") == ["lea.martin@ac-besancon.fr"]
    assert _addresses(teacher, "ines") == ["imartinez@ac-besancon.fr"]


def test_teacher_does_not_find_pupils_of_other_schools(
    teacher, pupil_in_dole, pupils_with_addresses
):
    assert _addresses(teacher, "yanis") == []


def test_teacher_finds_the_parents_of_her_pupils_at_their_own_address(teacher, parent):
    assert parent in User.objects.reachable_by(teacher)
    [found] = search_recipients(teacher, "karim")
    assert found == ("Karim Martin", "karim.martin@exemple.fr", "Parent — Collège Victor Hugo")


def test_teacher_does_not_find_parents_of_pupils_of_other_schools(teacher, parent, demo):
    other = _person("Zoé", "Aubry", role=Role.ELEVE, uai=JEAN_MACE, division="5e C")
    mother = _guardian_of(other, "Amandine", "Aubry")
    assert mother not in User.objects.reachable_by(teacher)
    assert _addresses(teacher, "amandine") == []


def test_a_parent_is_found_through_a_current_pupil_only(teacher, parent, pupil):
    Assignment.objects.filter(user=pupil).update(school_year=_previous_year())
    # Karim's son Yanis is at a lycée where Sophie does not teach.
    assert parent not in User.objects.reachable_by(teacher)


def test_pupil_of_another_school_and_teacher_do_not_find_each_other(teacher, demo):
    other = _person("Zoé", "Aubry", role=Role.ELEVE, uai=JEAN_MACE, division="5e C")
    assert other not in User.objects.reachable_by(teacher)
    assert teacher not in User.objects.reachable_by(other)
    assert _addresses(other, "bernard") == []
    assert _addresses(teacher, "zoe") == []


def test_staff_who_are_also_parents_stay_reachable_as_staff(pupil, head_of_school, parent):
    Assignment.objects.create(
        user=head_of_school,
        establishment=Establishment.objects.get(uai=CHARLES_NODIER),
        role=Role.PARENT,
        school_year=current_school_year(),
    )
    assert head_of_school in User.objects.reachable_by(pupil)


def test_parent_reaches_his_childrens_teachers_and_vie_scolaire(
    parent, teacher, head_of_school, cpe, referent, agent, administrative_agent, dsi
):
    """Léa is at Victor Hugo, Yanis at Charles Nodier: their teachers, CPE and heads of
    school; not the agent, the secretary or the DSI. Julien is found as a teacher (he is also
    the référent numérique)."""
    reached = set(User.objects.reachable_by(parent))
    assert reached == {teacher, head_of_school, cpe, referent}
    assert _addresses(parent, "bernard") == ["sophie.bernard@ac-besancon.fr"]
    assert _addresses(parent, "roux") == []
    assert _addresses(parent, "petit") == []
    assert _addresses(parent, "isabelle") == []


def test_parent_reaches_the_teachers_of_each_childs_school(parent, demo):
    dole_teacher = _person("Marc", "Lorin", role=Role.ENSEIGNANT, uai=CHARLES_NODIER)
    dole_cpe = _person("Inès", "Vidal", role=Role.CPE, uai=CHARLES_NODIER)
    assert {dole_teacher, dole_cpe} <= set(User.objects.reachable_by(parent))


def test_parent_of_another_child_does_not_reach_these_teachers(teacher, head_of_school, cpe, demo):
    other = _person("Zoé", "Aubry", role=Role.ELEVE, uai=JEAN_MACE, division="5e C")
    mother = _guardian_of(other, "Amandine", "Aubry")
    heloise = _person("Héloïse", "Lefèvre", login="hlefevre", role=Role.ENSEIGNANT, uai=JEAN_MACE)
    reached = set(User.objects.reachable_by(mother))
    assert reached == {heloise}
    assert not {teacher, head_of_school, cpe} & reached
    assert _addresses(mother, "bernard") == []


def test_parent_never_finds_other_parents_or_pupils(parent, pupil, classmate, demo):
    classmate_mother = _guardian_of(classmate, "Sonia", "Martinez")
    reached = set(User.objects.reachable_by(parent))
    assert classmate_mother not in reached
    assert not {pupil, classmate} & reached
    assert _addresses(parent, "sonia") == []
    assert _addresses(parent, "martin") == []


def test_a_parent_no_longer_guardian_reaches_nobody(parent, teacher):
    Guardianship.objects.filter(parent=parent).delete()
    assert not User.objects.reachable_by(parent).exists()


def test_a_suspended_parent_reaches_nobody_and_is_not_found(parent, teacher):
    parent.state = AccountState.SUSPENDED
    parent.save(update_fields=["state"])
    assert not User.objects.reachable_by(parent).exists()
    assert parent not in User.objects.reachable_by(teacher)


def test_parent_cannot_use_the_directory(parent):
    response = client_of(parent).get(URL, {"q": "bernard"})
    assert response.status_code == 403


def test_last_years_assignment_opens_no_door(teacher, pupil, pupils_with_addresses):
    former = _person(
        "Marc", "Vernier", role=Role.ENSEIGNANT, uai=VICTOR_HUGO, school_year=_previous_year()
    )
    assert _addresses(teacher, "vernier") == []
    assert former not in User.objects.reachable_by(pupil)
    # Nor does a pupil of last year reach anybody.
    Assignment.objects.filter(user=pupil).update(school_year=_previous_year())
    assert not User.objects.reachable_by(pupil).exists()


@pytest.mark.parametrize("state", [AccountState.SUSPENDED, AccountState.ARCHIVED])
def test_suspended_and_archived_people_are_never_listed(teacher, cpe, state):
    cpe.state = state
    cpe.archived_at = timezone.now() if state == AccountState.ARCHIVED else None
    cpe.save(update_fields=["state", "archived_at"])
    assert _addresses(teacher, "nadia") == []
    assert cpe not in User.objects.reachable_by(teacher)


def test_invited_pupils_are_not_listed(teacher, invited_pupil, pupils_with_addresses):
    assert _addresses(teacher, "hugo") == []


def test_a_suspended_person_reaches_nobody(teacher, cpe):
    teacher.state = AccountState.SUSPENDED
    teacher.save(update_fields=["state"])
    assert not User.objects.reachable_by(teacher).exists()


def test_people_without_an_address_are_left_out(teacher, pupil):
    # The demo's pupil has no address: there is nothing to write to.
    assert pupil in User.objects.reachable_by(teacher)
    assert _addresses(teacher, "lea") == []


# Matching.


@pytest.mark.parametrize("typed", ["helo", "HELO", "Hélo", "HÉLOÏSE", "lefev", "LEFÈVRE"])
def test_names_match_without_case_or_accents(teacher, heloise, typed):
    assert _addresses(teacher, typed) == ["hlefevre@ac-besancon.fr"]


def test_a_ligature_is_found_from_its_two_letters(teacher, heloise):
    assert _addresses(teacher, "duboeuf") == ["hlefevre@ac-besancon.fr"]
    assert _addresses(teacher, "dubœ") == ["hlefevre@ac-besancon.fr"]


def test_each_part_of_a_compound_name_matches(teacher, demo):
    _person("Anne-Marie", "De La Tour", login="adelatour", role=Role.CPE, uai=JEAN_MACE)
    for typed in ["anne", "marie", "de la", "tour"]:
        assert _addresses(teacher, typed) == ["adelatour@ac-besancon.fr"], typed


def test_only_the_start_of_a_word_matches(teacher, heloise):
    assert _addresses(teacher, "loise") == []
    assert _addresses(teacher, "fevre") == []


def test_login_and_address_match_from_their_start(teacher, cpe):
    assert cpe.login == "nhaddad"
    assert _addresses(teacher, "nhadd") == ["nadia.haddad@ac-besancon.fr"]
    assert _addresses(teacher, "nadia.hadd") == ["nadia.haddad@ac-besancon.fr"]
    assert _addresses(teacher, "ac-besancon") == []


def test_every_word_must_match(teacher, cpe, head_of_school):
    assert _addresses(teacher, "nadia hadd") == ["nadia.haddad@ac-besancon.fr"]
    assert _addresses(teacher, "nadia girard") == []


def test_special_characters_are_taken_literally(teacher, cpe):
    assert _addresses(teacher, ".*") == []
    assert _addresses(teacher, "n[a-z]") == []
    assert _addresses(teacher, "(^|n)") == []


def test_fewer_than_two_characters_find_nothing(teacher, cpe):
    assert _addresses(teacher, "n") == []
    assert _addresses(teacher, "  n  ") == []
    assert _addresses(teacher, "na") == ["nadia.haddad@ac-besancon.fr"]


def test_at_most_eight_people_ordered_by_last_name(teacher, demo):
    for number in range(12):
        _person(
            "Zoé",
            f"Zabel{chr(ord('a') + 11 - number)}",
            login=f"zzabel{number}",
            role=Role.ENSEIGNANT,
            uai=JEAN_MACE,
        )
    found = search_recipients(teacher, "zabel")
    assert [one.name for one in found] == [f"Zoé Zabel{letter}" for letter in "abcdefgh"]
    assert len(search_recipients(teacher, "zabel", limit=50)) == directory.MAX_RESULTS
    assert len(search_recipients(teacher, "zabel", limit=3)) == 3


def test_a_label_says_the_role_and_the_establishment(pupil, teacher, classmate):
    [found] = search_recipients(teacher, "ines")
    assert found == (
        "Inès Martinez",
        "imartinez@ac-besancon.fr",
        "Élève, 4e B — Collège Victor Hugo",
    )
    [found] = search_recipients(pupil, "bernard")
    assert found.label == "Enseignant — Collège Victor Hugo et 1 autre établissement"


def test_a_search_is_a_bounded_number_of_queries(
    teacher, classmate, heloise, django_assert_max_num_queries
):
    for number in range(6):
        _person("Paul", f"Marchal{number}", login=f"pmarchal{number}", role=Role.CPE, uai=JEAN_MACE)
    current_school_year()  # cached, as it is in every request after the first
    with django_assert_max_num_queries(3):
        found = search_recipients(teacher, "marchal")
    assert len(found) == 6
    assert all(one.label == "CPE — Collège Jean Macé" for one in found)


# The view.


def test_the_fragment_is_an_accessible_listbox(teacher, cpe, head_of_school):
    response = client_of(teacher).get(URL, {"q": "girard"})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    page = response.content.decode()
    assert 'role="listbox"' in page
    assert 'role="option" id="mail-recipient-1"' in page
    assert 'data-address="philippe.girard@ac-besancon.fr"' in page
    assert "Personnel de direction — Collège Victor Hugo" in text_of(response)
    assert "nadia.haddad" not in page


def test_the_url_is_named(demo):
    assert reverse("mail_directory:recipients") == URL


def test_nothing_found_is_said_and_the_query_escaped(teacher):
    response = client_of(teacher).get(URL, {"q": "<b>zz"})
    assert response.status_code == 200
    assert "<b>zz" not in response.content.decode()
    assert "Aucun destinataire ne correspond" in text_of(response)


def test_anonymous_visitors_are_sent_to_sign_in(demo):
    from django.test import Client

    response = Client().get(URL, {"q": "bernard"})
    assert response.status_code == 302


def test_the_pupil_sees_her_teacher_in_the_fragment(pupil, teacher, pupils_with_addresses):
    response = client_of(pupil).get(URL, {"q": "bern"})
    assert "sophie.bernard@ac-besancon.fr" in response.content.decode()


def test_scraping_the_directory_is_throttled(teacher, cpe, head_of_school):
    """The attack: reading every address of the académie by trying each two-letter prefix.
    Past 60 lookups in a minute the answer is a 429 in French and names no one."""
    browser = client_of(teacher)
    prefixes = [a + b for a in "abcdefghijklmnopqrstuvwxyz" for b in "aeiou"][
        : directory_views.LOOKUPS_PER_MINUTE
    ]
    for prefix in prefixes:
        assert browser.get(URL, {"q": prefix}).status_code == 200
    refused = browser.get(URL, {"q": "gi"})
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Trop de recherches de destinataires" in text_of(refused)
    assert "philippe.girard" not in refused.content.decode()
    # Someone else is not slowed down by it.
    assert client_of(head_of_school).get(URL, {"q": "nadia"}).status_code == 200


def test_too_short_queries_cost_nothing(teacher):
    browser = client_of(teacher)
    for _ in range(directory_views.LOOKUPS_PER_MINUTE + 5):
        assert browser.get(URL, {"q": "g"}).status_code == 200
    assert browser.get(URL, {"q": "gi"}).status_code == 200


def test_the_limiter_down_refuses_with_a_503(teacher, cpe, settings):
    """Without its counters the directory could be read at will: refused, not let through.
    The view alone is asked (the rest of the portal's pages need the cache as well)."""
    request = RequestFactory().get(URL, {"q": "nadia"})
    request.user = teacher
    current_school_year()  # kept in the process for a few seconds, as between requests
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    response = directory_views.recipients(request)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = html.unescape(response.content.decode())
    assert "momentanément indisponible" in page
    assert "nadia.haddad" not in page


def test_the_view_is_a_bounded_number_of_queries(teacher, heloise, django_assert_max_num_queries):
    """The session and the person (3), her groups, class lists (2), contacts and recent
    addresses (mail/contacts.py), then the directory (3)."""
    browser = client_of(teacher)
    browser.get(URL, {"q": "he"})
    with django_assert_max_num_queries(11):
        response = browser.get(URL, {"q": "helo"})
    assert "hlefevre@ac-besancon.fr" in response.content.decode()
